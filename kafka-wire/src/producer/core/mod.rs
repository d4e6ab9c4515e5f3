//! The producer's decisions, with no I/O and no clock of its own (quinn-proto's sans-I/O
//! style).
//!
//! [`ProducerCore`] owns everything the producer decides: the record accumulator, the
//! idempotence state (producer id, epoch, sequences), the transaction manager, which Produce
//! requests are in flight to which broker, and every retry, expiry and ordering decision. The
//! tokio shell ([`super::sender`]) only moves requests, responses and time. Its methods come in
//! four kinds:
//!
//! * getters on `&self` ([`ProducerCore::all_delivered`], [`ProducerCore::identity`], …);
//! * inputs, each taking `now`: [`ProducerCore::handle_produce_response`],
//!   [`ProducerCore::handle_init_producer_id`], [`ProducerCore::handle_add_partitions`],
//!   [`ProducerCore::handle_timeout`];
//! * application commands: [`ProducerCore::append`], [`ProducerCore::begin_flush`],
//!   [`ProducerCore::close`], [`ProducerCore::abort_unsent`], [`ProducerCore::set_identity`];
//! * outputs, drained by the shell after every input in this order:
//!   [`ProducerCore::poll_transmit`] (requests to send), [`ProducerCore::poll_event`] (things to
//!   do besides sending: refresh metadata, release buffer memory, …) and
//!   [`ProducerCore::poll_timeout`] (when to call [`ProducerCore::handle_timeout`] next).
//!
//! The ordering rules are the Java client's: a partition never has batches in flight to two
//! brokers at once (after a leader change, new batches wait until the old broker has answered);
//! with idempotence at most five batches per partition are in flight, and only one until the
//! partition's first acknowledgement under the current epoch; a retried batch goes back in
//! front of every batch with a later sequence.

mod outcomes;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

use super::accumulator::{Accumulator, ProducerBatch};
use super::config::{Acks, ProducerConfig};
use super::delivery::DeliveryFuture;
use super::idempotence::{BatchSequence, IdempotenceState, ProducerIdAndEpoch};
use super::partitioner::{NodeLatencyStats, QueueLengths};
use super::transaction_manager::TransactionManager;
use crate::cluster::{ClusterMetadata, LeaderLookup};
use crate::error::{ClientError, Error, TransactionErrorKind};
use crate::protocol::batch_builder::{self, ProducerFields};
use crate::protocol::messages::add_partitions_to_txn_request::{
    AddPartitionsToTxnRequest, AddPartitionsToTxnTopic,
};
use crate::protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use crate::protocol::messages::{InitProducerIdRequest, ProduceRequest};
use crate::protocol::record_batch::Record;
use crate::protocol::Uuid;
use crate::topic_partition::partitions_by_topic;
use crate::TopicPartition;

/// Identifies one request the core asked for, so its answer can be matched.
pub(crate) type RequestId = u64;

/// The highest Produce version under transaction version 1: v12 and later mean "partitions are
/// added to the transaction implicitly" (KIP-890).
pub(crate) const TXN_V1_MAX_PRODUCE_VERSION: i16 = 11;

/// The highest AddPartitionsToTxn version sent by a producer (v4+ is for brokers only).
pub(crate) const MAX_ADD_PARTITIONS_VERSION: i16 = 3;

/// A request the core wants on the wire.
#[derive(Debug)]
pub(crate) enum Transmit {
    /// A Produce request to the leader `node` of every partition in it. Answer with
    /// [`ProducerCore::handle_produce_response`] (`Ok(None)` once written when `acks=0`).
    Produce {
        /// Matches the answer.
        id: RequestId,
        /// The partition leader.
        node: i32,
        /// The request, with both topic names and topic ids filled in (the version decides
        /// which one goes on the wire).
        request: ProduceRequest,
        /// The highest version allowed by what the core knows (transaction version 1).
        max_version: i16,
        /// `acks=0`: no response will come.
        expects_response: bool,
    },
    /// InitProducerId for an idempotent (not transactional) producer, to any broker: a new id,
    /// or (KIP-360) the next epoch of the current one. Answer with
    /// [`ProducerCore::handle_init_producer_id`].
    InitProducerId {
        /// Matches the answer.
        id: RequestId,
        /// The request.
        request: InitProducerIdRequest,
    },
    /// AddPartitionsToTxn to the transaction coordinator, before the partitions' batches may
    /// be sent (transaction version 1). Answer with [`ProducerCore::handle_add_partitions`].
    AddPartitionsToTxn {
        /// Matches the answer.
        id: RequestId,
        /// The request (at most version [`MAX_ADD_PARTITIONS_VERSION`]).
        request: AddPartitionsToTxnRequest,
    },
}

/// Something for the shell to do besides sending requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// A partition has no known leader, or an answer said the metadata is stale.
    RefreshMetadata,
    /// The transaction coordinator moved or is unavailable: look it up again.
    FindTransactionCoordinator,
    /// Batches completed: this many bytes of `buffer.memory` are free again.
    MemoryReleased(usize),
}

/// A request on the wire, as the core remembers it.
#[derive(Debug)]
enum Sent {
    Produce {
        node: i32,
        batches: Vec<ProducerBatch>,
        /// Topic ids used in the request, to name the topics of a v13+ answer.
        topic_ids: Vec<(Uuid, String)>,
    },
    InitProducerId,
    AddPartitions(Vec<TopicPartition>),
}

/// The sender's side of adaptive partitioning (KIP-794): the queue lengths of the last ready
/// pass, and how long each broker has been unable to take ready batches.
#[derive(Debug, Default)]
pub(crate) struct LoadTracking {
    /// Batches queued per partition in the last ready pass.
    pub queues: QueueLengths,
    /// Per broker: when it last had batches ready and when it last took them.
    pub latency: NodeLatencyStats,
}

/// The producer's state and decisions; see the [module docs](self).
#[derive(Debug)]
pub(crate) struct ProducerCore {
    config: ProducerConfig,
    accumulator: Accumulator,
    idempotence: IdempotenceState,
    transactions: Option<TransactionManager>,
    /// Produce requests in flight per broker.
    in_flight: HashMap<i32, usize>,
    /// Where each partition's in-flight batches went, and how many there are.
    routes: HashMap<TopicPartition, (i32, usize)>,
    sent: HashMap<RequestId, Sent>,
    next_id: RequestId,
    /// Records accepted by `append` whose delivery has not completed.
    pending: usize,
    /// Callers waiting in `flush` (the sender sends without lingering meanwhile).
    flushes: usize,
    closing: bool,
    /// An InitProducerId or AddPartitionsToTxn is in flight.
    control_in_flight: bool,
    /// After a failed InitProducerId or AddPartitionsToTxn: not before this.
    control_retry_at: Option<Instant>,
    /// When the accumulator's next batch becomes ready (from the last pass).
    next_ready: Option<Instant>,
    load: LoadTracking,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
}

impl ProducerCore {
    /// A core for a validated `config`; transactional when it has a `transactional.id`.
    pub fn new(config: ProducerConfig) -> Self {
        ProducerCore {
            accumulator: Accumulator::new(config.batch_size, config.linger),
            idempotence: IdempotenceState::new(),
            transactions: config
                .transactional_id
                .as_ref()
                .map(|id| TransactionManager::new(id.clone())),
            in_flight: HashMap::new(),
            routes: HashMap::new(),
            sent: HashMap::new(),
            next_id: 0,
            pending: 0,
            flushes: 0,
            closing: false,
            control_in_flight: false,
            control_retry_at: None,
            next_ready: None,
            load: LoadTracking::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            config,
        }
    }

    // ---- getters ----

    /// Whether every record accepted so far has been acknowledged or has failed.
    pub fn all_delivered(&self) -> bool {
        self.pending == 0
    }

    /// Closed, and nothing left to send or wait for: the shell may stop.
    pub fn is_finished(&self) -> bool {
        self.closing && self.pending == 0 && self.sent.is_empty()
    }

    /// The producer id and epoch in use.
    pub fn identity(&self) -> Option<ProducerIdAndEpoch> {
        self.idempotence.identity()
    }

    /// Whether sequences were abandoned, so the epoch must be bumped before sending more.
    pub fn bump_needed(&self) -> bool {
        self.idempotence.bump_needed()
    }

    /// The transaction manager, for a transactional producer.
    pub fn transactions(&self) -> Option<&TransactionManager> {
        self.transactions.as_ref()
    }

    /// The transaction manager, to change state (application commands of the transactional
    /// API go through it).
    pub fn transactions_mut(&mut self) -> Option<&mut TransactionManager> {
        self.transactions.as_mut()
    }

    /// Whether the open transaction can no longer commit (abortable or fatal error).
    pub fn transaction_failed(&self) -> bool {
        use super::transaction_manager::TxnState;
        self.transactions
            .as_ref()
            .is_some_and(|tm| matches!(tm.state(), TxnState::AbortableError | TxnState::FatalError))
    }

    /// The load statistics of the last ready pass, for adaptive partitioning.
    pub fn load(&self) -> &LoadTracking {
        &self.load
    }

    fn is_transactional(&self) -> bool {
        self.transactions.is_some()
    }

    fn flushing(&self) -> bool {
        self.flushes > 0 || self.closing
    }

    // ---- application commands ----

    /// Queue `record` (of `size` estimated bytes, already reserved from `buffer.memory`) for
    /// `tp`. Returns whether the shell should wake the sender now (a new batch started, or one
    /// is full) and the record's delivery future. Fails when the producer is closed or the
    /// transaction does not allow sends.
    pub fn append(
        &mut self,
        tp: &TopicPartition,
        record: Record,
        size: usize,
        now: Instant,
    ) -> Result<(bool, DeliveryFuture), Error> {
        if self.closing {
            return Err(ClientError::ProducerClosed.into());
        }
        if let Some(tm) = &mut self.transactions {
            tm.add_partition(tp)?;
        }
        self.pending += 1;
        Ok(self.accumulator.append(tp, record, size, now))
    }

    /// A caller started waiting for everything to be delivered: send without lingering.
    pub fn begin_flush(&mut self) {
        self.flushes += 1;
    }

    /// A flush waiter is done.
    pub fn end_flush(&mut self) {
        self.flushes = self.flushes.saturating_sub(1);
    }

    /// Stop accepting records; what is queued is still sent.
    pub fn close(&mut self) {
        self.closing = true;
    }

    /// Drop every batch not on the wire (the transaction is being aborted): their records
    /// fail. Batches in flight are answered normally.
    pub fn abort_unsent(&mut self) {
        for batch in self.accumulator.drain_all() {
            if let Some(seq) = batch.sequence {
                self.idempotence.on_abandoned(&batch.tp, seq.base_sequence);
            }
            self.finish(&batch);
            batch.fail(Error::Transaction {
                operation: "send",
                kind: TransactionErrorKind::Abortable,
                code: None,
                detail: "the transaction was aborted before this record was sent".into(),
            });
        }
    }

    /// Use a new (or bumped) producer id and epoch: sequences restart at 0 and unacknowledged
    /// batches are renumbered in their order.
    pub fn set_identity(&mut self, id: ProducerIdAndEpoch) {
        tracing::debug!(?id, "producer id assigned");
        for (tp, old, new) in self.idempotence.set_identity(id) {
            self.accumulator.renumber(
                &tp,
                old,
                new,
                BatchSequence {
                    id,
                    base_sequence: new,
                },
            );
        }
    }

    // ---- outputs ----

    /// The next request to send, if any. `metadata` gives partition leaders and topic ids.
    pub fn poll_transmit(&mut self, now: Instant, metadata: &ClusterMetadata) -> Option<Transmit> {
        if self.transmits.is_empty() {
            self.plan_control(now);
            self.plan_produce(now, metadata);
        }
        self.transmits.pop_front()
    }

    /// The next thing to do besides sending.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`ProducerCore::handle_timeout`] is due next: a batch lingering, a retry backoff
    /// ending, or a batch reaching `delivery.timeout.ms`.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let expiry = self
            .accumulator
            .oldest()
            .map(|created| created + self.config.delivery_timeout);
        [self.next_ready, expiry, self.control_retry_at]
            .into_iter()
            .flatten()
            .min()
    }

    // ---- inputs ----

    /// Time passed: fail batches that waited longer than `delivery.timeout.ms`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.control_retry_at.is_some_and(|at| at <= now) {
            self.control_retry_at = None;
        }
        let expired = self.accumulator.expire(now, self.config.delivery_timeout);
        for mut batch in expired {
            if let Some(seq) = batch.sequence {
                self.idempotence.on_abandoned(&batch.tp, seq.base_sequence);
            }
            let err = ClientError::DeliveryTimeout {
                topic_partition: batch.tp.clone(),
                timeout: self.config.delivery_timeout,
                attempts: batch.attempts,
                last: batch.last_error.take().map(Box::new),
            }
            .into();
            self.fail_batch(batch, None, err);
        }
    }

    fn take_id(&mut self) -> RequestId {
        self.next_id += 1;
        self.next_id
    }

    /// InitProducerId (idempotent producer) or AddPartitionsToTxn (transactional), when due.
    fn plan_control(&mut self, now: Instant) {
        if self.control_in_flight || self.control_retry_at.is_some_and(|at| at > now) {
            return;
        }
        if let Some(tm) = &mut self.transactions {
            let Some(id) = self.idempotence.identity() else {
                return;
            };
            let Some(tps) = tm.take_partitions_to_add() else {
                return;
            };
            let request = AddPartitionsToTxnRequest {
                v3_and_below_transactional_id: tm.transactional_id().to_owned(),
                v3_and_below_producer_id: id.producer_id,
                v3_and_below_producer_epoch: id.epoch,
                v3_and_below_topics: partitions_by_topic(&tps)
                    .into_iter()
                    .map(|(name, partitions)| AddPartitionsToTxnTopic {
                        name: name.to_owned(),
                        partitions,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            };
            let id = self.take_id();
            self.sent.insert(id, Sent::AddPartitions(tps));
            self.control_in_flight = true;
            self.transmits
                .push_back(Transmit::AddPartitionsToTxn { id, request });
            return;
        }
        if !self.config.enable_idempotence || self.in_flight.values().any(|n| *n > 0) {
            return;
        }
        let needs_id = self.idempotence.identity().is_none() || self.idempotence.bump_needed();
        if !needs_id || self.accumulator.len() == 0 {
            return;
        }
        let current = self.idempotence.identity();
        let request = InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: i32::MAX,
            producer_id: current.map_or(-1, |c| c.producer_id),
            producer_epoch: current.map_or(-1, |c| c.epoch),
            ..Default::default()
        };
        let id = self.take_id();
        self.sent.insert(id, Sent::InitProducerId);
        self.control_in_flight = true;
        self.transmits
            .push_back(Transmit::InitProducerId { id, request });
    }

    /// Drain what is ready into Produce requests, round after round (at most one batch per
    /// partition per request, as the Java client), until the in-flight limits stop it or
    /// nothing is ready.
    fn plan_produce(&mut self, now: Instant, metadata: &ClusterMetadata) {
        while self.produce_round(now, metadata) {}
    }

    /// One round; returns whether it made a request.
    fn produce_round(&mut self, now: Instant, metadata: &ClusterMetadata) -> bool {
        if self.config.enable_idempotence && self.idempotence.bump_needed() {
            // Sequences are being reset (KIP-360): not even a retry may go out under the old
            // epoch, or the broker would take it for a duplicate of a later batch.
            return false;
        }
        let adaptive = self.config.adaptive_partitioning;
        let track_latency = adaptive && !self.config.partitioner_availability_timeout.is_zero();
        let flushing = self.flushing();
        let (ready, next) = {
            let queues = adaptive.then_some(&mut self.load.queues);
            self.accumulator.ready(now, flushing, queues)
        };
        self.next_ready = next;
        let mut by_node: BTreeMap<i32, (usize, Vec<ProducerBatch>)> = BTreeMap::new();
        let mut refresh = false;
        let max_in_flight = self.config.max_in_flight;
        for tp in ready {
            let node = match metadata.leader(&tp) {
                LeaderLookup::Leader(b) => b.node_id,
                _ => {
                    refresh = true;
                    continue;
                }
            };
            let blocked = self.in_flight.get(&node).copied().unwrap_or(0) >= max_in_flight;
            if track_latency {
                self.load.latency.record(node, now, !blocked);
            }
            if blocked {
                continue;
            }
            if self.routes.get(&tp).is_some_and(|(n, _)| *n != node) {
                continue; // the leader moved: the batches in flight to the old one finish first
            }
            if self
                .transactions
                .as_ref()
                .is_some_and(|tm| !tm.may_send(&tp))
            {
                continue; // not in the transaction yet (AddPartitionsToTxn pending)
            }
            let entry = by_node.entry(node).or_default();
            let Some(mut batch) = self.accumulator.drain(&tp) else {
                continue;
            };
            if !entry.1.is_empty() && entry.0 + batch.size > self.config.max_request_size {
                self.accumulator.requeue(batch);
                continue;
            }
            if self.config.enable_idempotence && batch.sequence.is_none() {
                if !self.idempotence.can_send_new(&tp, max_in_flight.min(5)) {
                    self.accumulator.requeue(batch);
                    continue;
                }
                batch.sequence = self.idempotence.assign(&tp, batch.record_count as i32);
            }
            entry.0 += batch.size;
            self.routes.entry(tp).or_insert((node, 0)).1 += 1;
            entry.1.push(batch);
        }
        if refresh {
            self.push_event(Event::RefreshMetadata);
        }
        let mut sent = false;
        for (node, (_, batches)) in by_node {
            if batches.is_empty() {
                continue;
            }
            sent = true;
            self.produce_request(node, batches, metadata);
        }
        sent
    }

    /// Encode `batches` into one Produce request for `node` and remember them until answered.
    fn produce_request(
        &mut self,
        node: i32,
        batches: Vec<ProducerBatch>,
        metadata: &ClusterMetadata,
    ) {
        let mut topics: BTreeMap<String, Vec<PartitionProduceData>> = BTreeMap::new();
        let mut kept = Vec::with_capacity(batches.len());
        for mut batch in batches {
            match encode(&self.config, self.is_transactional(), &mut batch) {
                Ok(records) => {
                    topics
                        .entry(batch.tp.topic.clone())
                        .or_default()
                        .push(PartitionProduceData {
                            index: batch.tp.partition,
                            records: Some(records),
                            ..Default::default()
                        });
                    kept.push(batch);
                }
                Err(err) => {
                    // Cannot happen for records `send` accepted; fail the batch, not the rest.
                    self.release_route(&batch.tp);
                    if let Some(seq) = batch.sequence {
                        self.idempotence.on_abandoned(&batch.tp, seq.base_sequence);
                    }
                    self.fail_batch(batch, None, err);
                }
            }
        }
        if kept.is_empty() {
            return;
        }
        let topic_id = |t: &str| metadata.topics.get(t).map_or(Uuid::ZERO, |m| m.topic_id);
        let topic_ids: Vec<(Uuid, String)> = topics
            .keys()
            .map(|name| (topic_id(name), name.clone()))
            .collect();
        let request = ProduceRequest {
            transactional_id: self.config.transactional_id.clone(),
            acks: self.config.acks.wire(),
            timeout_ms: i32::try_from(self.config.client.request_timeout.as_millis())
                .unwrap_or(i32::MAX),
            topic_data: topics
                .into_iter()
                .map(|(name, partition_data)| TopicProduceData {
                    topic_id: topic_id(&name),
                    name,
                    partition_data,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let max_version = if self
            .transactions
            .as_ref()
            .is_some_and(|tm| !tm.is_version2())
        {
            TXN_V1_MAX_PRODUCE_VERSION
        } else {
            i16::MAX
        };
        let id = self.take_id();
        *self.in_flight.entry(node).or_default() += 1;
        self.sent.insert(
            id,
            Sent::Produce {
                node,
                batches: kept,
                topic_ids,
            },
        );
        self.transmits.push_back(Transmit::Produce {
            id,
            node,
            request,
            max_version,
            expects_response: self.config.acks != Acks::None,
        });
    }

    fn push_event(&mut self, event: Event) {
        if event == Event::RefreshMetadata && self.events.contains(&event) {
            return;
        }
        self.events.push_back(event);
    }

    /// A batch is done (delivered or failed): its memory is free and its records counted out.
    fn finish(&mut self, batch: &ProducerBatch) {
        self.pending = self.pending.saturating_sub(batch.record_count);
        let bytes = batch.reserved();
        if bytes > 0 {
            self.events.push_back(Event::MemoryReleased(bytes));
        }
    }

    /// A route entry for one answered (or dropped) batch of `tp`.
    fn release_route(&mut self, tp: &TopicPartition) {
        if let Some((_, n)) = self.routes.get_mut(tp) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.routes.remove(tp);
            }
        }
    }
}

/// The batch as it goes on the wire: closed once (its records were encoded as they were
/// appended) and kept for retries; only its header is rewritten when the sequence changed.
fn encode(
    config: &ProducerConfig,
    transactional: bool,
    batch: &mut ProducerBatch,
) -> Result<bytes::Bytes, Error> {
    let fields = batch
        .sequence
        .map_or(ProducerFields::NONE, |s| ProducerFields {
            producer_id: s.id.producer_id,
            producer_epoch: s.id.epoch,
            base_sequence: s.base_sequence,
        });
    let closed = match &batch.encoded {
        Some((bytes, written)) if *written == fields => return Ok(bytes.clone()),
        Some((bytes, _)) => batch_builder::with_producer_fields(bytes, fields),
        None => {
            std::mem::take(&mut batch.builder).finish(config.compression, transactional, fields)
        }
    };
    let closed = closed.map_err(|e| {
        Error::InvalidArgument(format!("could not encode the batch for {}: {e}", batch.tp))
    })?;
    batch.encoded = Some((closed.clone(), fields));
    Ok(closed)
}
