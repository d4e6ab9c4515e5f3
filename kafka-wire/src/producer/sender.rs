//! The sender task: drains ready batches from the accumulator, groups them by partition
//! leader into Produce requests, and applies the responses (complete, retry in sequence order,
//! bump the epoch, or fail). The decisions live in [`Accumulator`] and [`IdempotenceState`];
//! this file is the tokio shell around them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::accumulator::ProducerBatch;
use super::idempotence::{BatchOutcome, BatchSequence, ProducerIdAndEpoch};
use super::partitioner::{NodeLatencyStats, QueueLengths};
use super::record::RecordMetadata;
use super::{Acks, Shared};
use crate::cluster::LeaderLookup;
use crate::error::Error;
use crate::protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use crate::protocol::messages::{InitProducerIdRequest, ProduceRequest, ProduceResponse};
use crate::protocol::record_batch::{self, RecordBatch};
use crate::protocol::{ApiKey, ErrorCode, Uuid};
use crate::TopicPartition;

/// The sender's side of adaptive partitioning: the queue-length buffer reused from one ready
/// pass to the next, and how long each broker has been unable to take ready batches.
#[derive(Debug, Default)]
struct LoadTracking {
    queues: QueueLengths,
    latency: NodeLatencyStats,
}

/// A finished Produce request, back from its task.
struct Completed {
    node: i32,
    batches: Vec<ProducerBatch>,
    result: Result<Option<ProduceResponse>, Error>,
}

pub(super) async fn run(shared: Arc<Shared>) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Completed>();
    let mut in_flight: HashMap<i32, usize> = HashMap::new();
    // Where each partition's in-flight batches went: a partition never has batches in flight
    // to two brokers at once (after a leader change, new batches wait for the old ones).
    let mut routes: HashMap<TopicPartition, (i32, usize)> = HashMap::new();
    let mut nodes = NodeSenders {
        senders: HashMap::new(),
        done: done_tx.clone(),
    };
    let mut load = LoadTracking::default();
    loop {
        let now = Instant::now();
        expire(&shared, now);
        if shared.txn.is_some() {
            // Partitions must join the transaction before their batches are sent.
            let to_add = shared.tm().and_then(|mut tm| tm.take_partitions_to_add());
            if let Some(tps) = to_add {
                if super::transactions::add_partitions(&shared, tps).await {
                    tokio::time::sleep(shared.config.client.retry_backoff).await;
                }
                continue;
            }
        } else if shared.config.enable_idempotence && in_flight.values().all(|n| *n == 0) {
            let needs_id = {
                let s = shared.idem();
                s.identity().is_none() || s.bump_needed()
            };
            if needs_id && shared.accumulator_len() > 0 {
                if let Err(e) = init_producer_id(&shared).await {
                    tracing::warn!(error = %e, "InitProducerId failed; retrying");
                    tokio::time::sleep(shared.config.client.retry_backoff).await;
                    continue;
                }
            }
        }
        let next = send_ready(
            &shared,
            &mut in_flight,
            &mut routes,
            &mut nodes,
            &mut load,
            now,
        );
        if shared.is_idle(&in_flight) {
            shared.idle.notify_waiters();
            if shared.closing() {
                return;
            }
        }
        let sleep = next.unwrap_or(now + Duration::from_millis(200));
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep_until(sleep.into()) => {}
            Some(done) = done_rx.recv() => {
                finished(&mut in_flight, &mut routes, &done);
                handle(&shared, done);
                while let Ok(done) = done_rx.try_recv() {
                    finished(&mut in_flight, &mut routes, &done);
                    handle(&shared, done);
                }
            }
        }
    }
}

fn finished(
    in_flight: &mut HashMap<i32, usize>,
    routes: &mut HashMap<TopicPartition, (i32, usize)>,
    done: &Completed,
) {
    if let Some(n) = in_flight.get_mut(&done.node) {
        *n = n.saturating_sub(1);
    }
    for b in &done.batches {
        if let Some((_, n)) = routes.get_mut(&b.tp) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                routes.remove(&b.tp);
            }
        }
    }
}

/// InitProducerId: a fresh id, or (KIP-360) a bumped epoch for the current one.
async fn init_producer_id(shared: &Shared) -> Result<(), Error> {
    let current = shared.idem().identity();
    let request = InitProducerIdRequest {
        transactional_id: None,
        transaction_timeout_ms: i32::MAX,
        producer_id: current.map_or(-1, |c| c.producer_id),
        producer_epoch: current.map_or(-1, |c| c.epoch),
        ..Default::default()
    };
    let response = shared
        .client
        .retry("InitProducerId", || shared.client.send_to_any(&request))
        .await?;
    match ErrorCode(response.error_code) {
        ErrorCode::NONE => {}
        code => {
            return Err(Error::kafka(
                "InitProducerId",
                "idempotent producer",
                code,
                None,
            ))
        }
    }
    let id = ProducerIdAndEpoch {
        producer_id: response.producer_id,
        epoch: response.producer_epoch,
    };
    apply_identity(shared, id);
    Ok(())
}

/// Use a (new or bumped) producer id and epoch: unacknowledged batches are renumbered.
pub(super) fn apply_identity(shared: &Shared, id: ProducerIdAndEpoch) {
    tracing::debug!(?id, "producer id assigned");
    let renumbered = shared.idem().set_identity(id);
    let mut acc = shared.acc();
    for (tp, old, new) in renumbered {
        acc.renumber(
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

fn expire(shared: &Shared, now: Instant) {
    let expired = shared.acc().expire(now, shared.config.delivery_timeout);
    for batch in expired {
        if let Some(seq) = batch.sequence {
            shared.idem().on_abandoned(&batch.tp, seq.base_sequence);
        }
        let err = Error::Timeout {
            operation: "Produce",
            timeout: shared.config.delivery_timeout,
            last: Box::new(Error::kafka(
                "Produce",
                batch.tp.to_string(),
                ErrorCode::REQUEST_TIMED_OUT,
                Some("delivery.timeout.ms expired before the record was acknowledged".into()),
            )),
        };
        shared.finish(&batch);
        shared.note_txn_failure(None, &err);
        batch.fail(err);
    }
}

/// Drain what is ready into Produce requests, round after round (one batch per partition per
/// request, as the Java client), until the in-flight limits stop it or nothing is ready;
/// returns when to look again (completions wake the sender too).
fn send_ready(
    shared: &Arc<Shared>,
    in_flight: &mut HashMap<i32, usize>,
    routes: &mut HashMap<TopicPartition, (i32, usize)>,
    nodes: &mut NodeSenders,
    load: &mut LoadTracking,
    now: Instant,
) -> Option<Instant> {
    loop {
        let (next, sent) = send_round(shared, in_flight, routes, nodes, load, now);
        if !sent {
            return next;
        }
    }
}

/// One round: at most one batch per ready partition; returns (next deadline, sent anything).
/// With adaptive partitioning the ready pass also refreshes the partitioner's load statistics,
/// and (with `partitioner.availability.timeout.ms`) each leader's readiness is recorded.
fn send_round(
    shared: &Arc<Shared>,
    in_flight: &mut HashMap<i32, usize>,
    routes: &mut HashMap<TopicPartition, (i32, usize)>,
    nodes: &mut NodeSenders,
    load: &mut LoadTracking,
    now: Instant,
) -> (Option<Instant>, bool) {
    let metadata = shared.client.metadata();
    let mut by_node: BTreeMap<i32, (usize, Vec<ProducerBatch>)> = BTreeMap::new();
    let stats = shared.partitioner.load_stats();
    let (ready, next) = {
        let acc = shared.acc();
        let queues = stats.is_adaptive().then_some(&mut load.queues);
        acc.ready(now, shared.flushing(), queues)
    };
    // As in Java, the exclusions use the readiness recorded by earlier passes.
    stats.update(&load.queues, &metadata, &load.latency);
    let track_latency = stats.tracks_availability();
    let mut refresh = false;
    for tp in ready {
        let node = match metadata.leader(&tp) {
            LeaderLookup::Leader(b) => b.node_id,
            _ => {
                refresh = true;
                continue;
            }
        };
        let blocked = in_flight.get(&node).copied().unwrap_or(0) >= shared.config.max_in_flight;
        if track_latency {
            load.latency.record(node, now, !blocked);
        }
        if blocked {
            continue;
        }
        if routes.get(&tp).is_some_and(|(n, _)| *n != node) {
            continue; // the leader moved: let the batches in flight to the old one finish first
        }
        if shared.tm().is_some_and(|tm| !tm.may_send(&tp)) {
            continue; // not in the transaction yet (AddPartitionsToTxn pending)
        }
        let mut acc = shared.acc();
        let entry = by_node.entry(node).or_default();
        let Some(mut batch) = acc.drain(&tp) else {
            continue;
        };
        if !entry.1.is_empty() && entry.0 + batch.size > shared.config.max_request_size {
            acc.requeue(batch);
            continue;
        }
        if shared.config.enable_idempotence && batch.sequence.is_none() {
            let mut idem = shared.idem();
            if !idem.can_send_new(&tp, shared.config.max_in_flight.min(5)) {
                drop(idem);
                acc.requeue(batch);
                continue;
            }
            batch.sequence = idem.assign(&tp, batch.records.len() as i32);
        }
        entry.0 += batch.size;
        let route = routes.entry(tp.clone()).or_insert((node, 0));
        route.1 += 1;
        entry.1.push(batch);
    }
    if (refresh || shared.client.metadata_needs_refresh())
        && !shared
            .refreshing
            .swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Err(e) = shared
                .client
                .refresh_metadata(crate::cluster::TopicsToRefresh::None)
                .await
            {
                tracing::debug!(error = %e, "metadata refresh failed");
                tokio::time::sleep(shared.config.client.retry_backoff).await;
            }
            shared
                .refreshing
                .store(false, std::sync::atomic::Ordering::SeqCst);
            shared.wake.notify_one();
        });
    }
    let mut sent = false;
    for (node, (_, batches)) in by_node {
        if batches.is_empty() {
            continue;
        }
        sent = true;
        *in_flight.entry(node).or_default() += 1;
        nodes.send(shared, node, batches);
    }
    (next, sent)
}

fn encode(shared: &Shared, batch: &mut ProducerBatch) -> Result<bytes::Bytes, Error> {
    if let Some(b) = &batch.encoded {
        return Ok(b.clone());
    }
    let base_timestamp = batch.records.iter().map(|r| r.timestamp).min().unwrap_or(0);
    let rb = RecordBatch {
        compression: shared.config.compression,
        base_timestamp,
        producer_id: batch.sequence.map_or(-1, |s| s.id.producer_id),
        producer_epoch: batch.sequence.map_or(-1, |s| s.id.epoch),
        base_sequence: batch.sequence.map_or(-1, |s| s.base_sequence),
        records: std::mem::take(&mut batch.records),
        is_transactional: shared.txn.is_some(),
        ..RecordBatch::default()
    };
    let encoded =
        record_batch::encode_batch(&rb).map_err(|e| Error::InvalidArgument(e.to_string()));
    batch.records = rb.records;
    let encoded = encoded?;
    batch.encoded = Some(encoded.clone());
    Ok(encoded)
}

/// One task per broker puts that broker's Produce requests on the wire in the order the
/// sender made them (batches of a partition must arrive in sequence order), then waits for
/// each response in its own task so requests stay pipelined.
struct NodeSenders {
    senders: HashMap<i32, mpsc::UnboundedSender<Vec<ProducerBatch>>>,
    done: mpsc::UnboundedSender<Completed>,
}

impl NodeSenders {
    fn send(&mut self, shared: &Arc<Shared>, node: i32, batches: Vec<ProducerBatch>) {
        let tx = self.senders.entry(node).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(node_task(shared.clone(), node, rx, self.done.clone()));
            tx
        });
        if let Err(mpsc::error::SendError(batches)) = tx.send(batches) {
            // The task ended (cannot happen while the sender holds its channel); report it.
            let _ = self.done.send(Completed {
                node,
                batches,
                result: Err(Error::InvalidArgument("producer node task stopped".into())),
            });
        }
    }
}

async fn node_task(
    shared: Arc<Shared>,
    node: i32,
    mut requests: mpsc::UnboundedReceiver<Vec<ProducerBatch>>,
    done: mpsc::UnboundedSender<Completed>,
) {
    while let Some(mut batches) = requests.recv().await {
        match start_produce(&shared, node, &mut batches).await {
            Ok(Some(response)) => {
                let done = done.clone();
                tokio::spawn(async move {
                    let result = response.await.map(Some).map_err(Error::from);
                    let _ = done.send(Completed {
                        node,
                        batches,
                        result,
                    });
                });
            }
            Ok(None) => {
                let _ = done.send(Completed {
                    node,
                    batches,
                    result: Ok(None),
                });
            }
            Err(e) => {
                let _ = done.send(Completed {
                    node,
                    batches,
                    result: Err(e),
                });
            }
        }
    }
}

type ProduceFuture = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<ProduceResponse, crate::error::ConnectionError>>
            + Send,
    >,
>;

/// Encode and put one Produce request on the wire; `None` with `acks=0` (no response).
async fn start_produce(
    shared: &Shared,
    node: i32,
    batches: &mut [ProducerBatch],
) -> Result<Option<ProduceFuture>, Error> {
    let conn = shared.client.connection(node).await?;
    let metadata = shared.client.metadata();
    let topic_id = |t: &str| metadata.topics.get(t).map_or(Uuid::ZERO, |m| m.topic_id);
    let mut version = conn.version_for(ApiKey::Produce)?;
    if batches.iter().any(|b| topic_id(&b.tp.topic) == Uuid::ZERO) {
        version = version.min(12);
    }
    if shared.tm().is_some_and(|tm| !tm.is_version2()) {
        // Transaction version 1: partitions are added explicitly (AddPartitionsToTxn), so
        // Produce must stay below v12, which means "added implicitly" (KIP-890).
        version = version.min(11);
    }
    let mut topics: BTreeMap<String, Vec<PartitionProduceData>> = BTreeMap::new();
    for batch in batches.iter_mut() {
        let records = encode(shared, batch)?;
        topics
            .entry(batch.tp.topic.clone())
            .or_default()
            .push(PartitionProduceData {
                index: batch.tp.partition,
                records: Some(records),
                ..Default::default()
            });
    }
    let request = ProduceRequest {
        transactional_id: shared.config.transactional_id.clone(),
        acks: shared.config.acks.wire(),
        timeout_ms: i32::try_from(shared.config.client.request_timeout.as_millis())
            .unwrap_or(i32::MAX),
        topic_data: topics
            .into_iter()
            .map(|(name, partition_data)| TopicProduceData {
                topic_id: if version >= 13 {
                    topic_id(&name)
                } else {
                    Uuid::ZERO
                },
                name: if version >= 13 { String::new() } else { name },
                partition_data,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    if shared.config.acks == Acks::None {
        conn.send_no_response(&request, version).await?;
        return Ok(None);
    }
    tracing::trace!(node, batches = batches.len(), "produce request on the wire");
    Ok(Some(Box::pin(conn.start(&request, version).await?)))
}

fn handle(shared: &Shared, done: Completed) {
    let Completed {
        batches, result, ..
    } = done;
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            if e.invalidates_metadata() {
                shared.client.invalidate_metadata();
            }
            for batch in batches {
                retry_or_fail(
                    shared,
                    batch,
                    e.code().unwrap_or(ErrorCode::NETWORK_EXCEPTION),
                    Some(e.clone()),
                );
            }
            return;
        }
    };
    let Some(response) = response else {
        // acks=0: written to the socket is all we will ever know.
        for batch in batches {
            shared.finish(&batch);
            let topic = batch.tp.topic.clone();
            let partition = batch.tp.partition;
            batch.complete(|_, ts| {
                Ok(RecordMetadata {
                    topic: topic.clone(),
                    partition,
                    offset: -1,
                    timestamp: ts,
                })
            });
        }
        return;
    };
    let metadata = shared.client.metadata();
    let mut results: HashMap<TopicPartition, (ErrorCode, i64, i64, Option<String>)> =
        HashMap::new();
    for t in &response.responses {
        let name = if t.name.is_empty() {
            metadata
                .topics
                .values()
                .find(|m| m.topic_id == t.topic_id)
                .map(|m| m.name.clone())
                .unwrap_or_default()
        } else {
            t.name.clone()
        };
        for p in &t.partition_responses {
            results.insert(
                TopicPartition::new(name.clone(), p.index),
                (
                    ErrorCode(p.error_code),
                    p.base_offset,
                    p.log_append_time_ms,
                    p.error_message.clone(),
                ),
            );
        }
    }
    for batch in batches {
        match results.get(&batch.tp).cloned() {
            Some((ErrorCode::NONE, base, log_append, _)) => {
                succeed(shared, batch, base, log_append)
            }
            Some((code, _, _, message)) => {
                let err = Error::kafka("Produce", batch.tp.to_string(), code, message);
                retry_or_fail(shared, batch, code, Some(err));
            }
            None => {
                let err = Error::Protocol {
                    operation: "Produce",
                    detail: format!("no result for {}", batch.tp),
                };
                retry_or_fail(shared, batch, ErrorCode::UNKNOWN_SERVER_ERROR, Some(err));
            }
        }
    }
}

fn succeed(shared: &Shared, batch: ProducerBatch, base_offset: i64, log_append_time: i64) {
    if let Some(seq) = batch.sequence {
        shared.idem().on_acked(&batch.tp, seq.base_sequence);
    }
    shared.finish(&batch);
    let topic = batch.tp.topic.clone();
    let partition = batch.tp.partition;
    batch.complete(|i, ts| {
        Ok(RecordMetadata {
            topic: topic.clone(),
            partition,
            offset: if base_offset >= 0 {
                base_offset + i as i64
            } else {
                -1
            },
            timestamp: if log_append_time >= 0 {
                log_append_time
            } else {
                ts
            },
        })
    });
}

fn retry_or_fail(shared: &Shared, mut batch: ProducerBatch, code: ErrorCode, err: Option<Error>) {
    let outcome = match batch.sequence {
        Some(seq) => shared.idem().on_failed(&batch.tp, seq.base_sequence, code),
        None if code.is_retriable() || code == ErrorCode::NETWORK_EXCEPTION => BatchOutcome::Retry,
        None => BatchOutcome::Fail(code),
    };
    if code.invalidates_metadata() {
        shared.client.invalidate_metadata();
    }
    let err = err.unwrap_or_else(|| Error::kafka("Produce", batch.tp.to_string(), code, None));
    match outcome {
        BatchOutcome::AlreadyWritten => succeed(shared, batch, -1, -1),
        BatchOutcome::BumpEpochThenRetry if shared.txn.is_some() => {
            // A transactional producer bumps its epoch only when the transaction is aborted.
            shared.finish(&batch);
            shared.note_txn_failure(Some(code), &err);
            batch.fail(err);
        }
        BatchOutcome::Retry | BatchOutcome::BumpEpochThenRetry => {
            let expired = batch.created.elapsed() >= shared.config.delivery_timeout;
            if expired || batch.attempts >= shared.config.retries {
                if let Some(seq) = batch.sequence {
                    shared.idem().on_abandoned(&batch.tp, seq.base_sequence);
                }
                shared.finish(&batch);
                shared.note_txn_failure(None, &err);
                batch.fail(err);
                return;
            }
            tracing::debug!(tp = %batch.tp, error = %err, attempt = batch.attempts + 1, "retrying batch");
            batch.attempts += 1;
            batch.retry_at = Some(Instant::now() + shared.config.client.retry_backoff);
            shared.acc().requeue(batch);
        }
        BatchOutcome::Fail(_) => {
            shared.finish(&batch);
            shared.note_txn_failure(Some(code), &err);
            batch.fail(err);
        }
    }
}
