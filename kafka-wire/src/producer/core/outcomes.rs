//! The core's inputs from the wire: Produce, InitProducerId and AddPartitionsToTxn answers (or
//! their transport failures), and what each means for the batches involved — complete, retry in
//! sequence order, bump the epoch, or fail.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Event, ProducerCore, RequestId, Sent};
use crate::error::{ClientError, Error, TransactionErrorKind};
use crate::producer::accumulator::ProducerBatch;
use crate::producer::idempotence::{BatchOutcome, ProducerIdAndEpoch};
use crate::producer::transaction_manager::TxnErrorClass;
use crate::protocol::messages::add_partitions_to_txn_response::AddPartitionsToTxnResponse;
use crate::protocol::messages::{InitProducerIdResponse, ProduceResponse};
use crate::protocol::ErrorCode;
use crate::TopicPartition;

/// One partition's answer in a Produce response.
#[derive(Debug, Clone)]
struct PartitionResult {
    code: ErrorCode,
    base_offset: i64,
    log_append_time: i64,
    message: Option<String>,
}

impl ProducerCore {
    /// The answer to Produce request `id`: `Ok(Some(_))` a response, `Ok(None)` written with
    /// `acks=0`, `Err(_)` the request failed on its way (connection lost, timed out, …).
    pub fn handle_produce_response(
        &mut self,
        id: RequestId,
        result: Result<Option<ProduceResponse>, Error>,
        now: Instant,
    ) {
        let Some(Sent::Produce {
            node,
            batches,
            topic_ids,
        }) = self.sent.remove(&id)
        else {
            tracing::debug!(id, "answer to an unknown produce request ignored");
            return;
        };
        if let Some(n) = self.in_flight.get_mut(&node) {
            *n = n.saturating_sub(1);
        }
        for b in &batches {
            self.release_route(&b.tp);
        }
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                if e.invalidates_metadata() || matches!(e, Error::Connection(_)) {
                    self.push_event(Event::RefreshMetadata);
                }
                let code = e.code().unwrap_or(ErrorCode::NETWORK_EXCEPTION);
                for batch in batches {
                    self.retry_or_fail(batch, code, Some(e.clone()), now);
                }
                return;
            }
        };
        let Some(response) = response else {
            // acks=0: written to the socket is all we will ever know.
            for batch in batches {
                self.succeed(batch, -1, -1);
            }
            return;
        };
        let mut results: HashMap<TopicPartition, PartitionResult> = HashMap::new();
        for t in response.responses {
            let name = if t.name.is_empty() {
                topic_ids
                    .iter()
                    .find(|(id, _)| *id == t.topic_id)
                    .map(|(_, name)| name.clone())
                    .unwrap_or_default()
            } else {
                t.name
            };
            for p in t.partition_responses {
                results.insert(
                    TopicPartition::new(name.clone(), p.index),
                    PartitionResult {
                        code: ErrorCode(p.error_code),
                        base_offset: p.base_offset,
                        log_append_time: p.log_append_time_ms,
                        message: p.error_message,
                    },
                );
            }
        }
        for batch in batches {
            match results.remove(&batch.tp) {
                Some(r) if r.code.is_ok() => self.succeed(batch, r.base_offset, r.log_append_time),
                Some(r) => {
                    let err = Error::kafka("Produce", batch.tp.to_string(), r.code, r.message);
                    self.retry_or_fail(batch, r.code, Some(err), now);
                }
                None => {
                    let err = Error::Protocol {
                        operation: "Produce",
                        detail: format!("the response has no result for {}", batch.tp),
                    };
                    self.retry_or_fail(batch, ErrorCode::UNKNOWN_SERVER_ERROR, Some(err), now);
                }
            }
        }
    }

    /// The answer to the idempotent producer's InitProducerId `id`.
    pub fn handle_init_producer_id(
        &mut self,
        id: RequestId,
        result: Result<InitProducerIdResponse, Error>,
        now: Instant,
    ) {
        if !matches!(self.sent.remove(&id), Some(Sent::InitProducerId)) {
            return;
        }
        self.control_in_flight = false;
        let failure = match result {
            Ok(r) if ErrorCode(r.error_code).is_ok() => {
                self.set_identity(ProducerIdAndEpoch {
                    producer_id: r.producer_id,
                    epoch: r.producer_epoch,
                });
                return;
            }
            Ok(r) => Error::kafka(
                "InitProducerId",
                "idempotent producer",
                ErrorCode(r.error_code),
                None,
            ),
            Err(e) => e,
        };
        tracing::warn!(error = %failure, "InitProducerId failed; retrying");
        self.control_retry_at = Some(now + self.config.client.retry_backoff);
    }

    /// The answer to AddPartitionsToTxn `id`.
    pub fn handle_add_partitions(
        &mut self,
        id: RequestId,
        result: Result<AddPartitionsToTxnResponse, Error>,
        now: Instant,
    ) {
        let Some(Sent::AddPartitions(partitions)) = self.sent.remove(&id) else {
            return;
        };
        self.control_in_flight = false;
        let results: Vec<(TopicPartition, ErrorCode)> = match result {
            Ok(resp) => {
                let mut out = Vec::new();
                for topic in resp.results_by_topic_v3_and_below {
                    for p in topic.results_by_partition {
                        out.push((
                            TopicPartition::new(topic.name.clone(), p.partition_index),
                            ErrorCode(p.partition_error_code),
                        ));
                    }
                }
                if out.is_empty() && resp.error_code != 0 {
                    // A top-level error: every partition of the request failed with it.
                    out = partitions
                        .iter()
                        .map(|tp| (tp.clone(), ErrorCode(resp.error_code)))
                        .collect();
                }
                out
            }
            Err(e) => {
                tracing::debug!(error = %e, "AddPartitionsToTxn failed; retrying");
                partitions
                    .iter()
                    .map(|tp| (tp.clone(), ErrorCode::COORDINATOR_NOT_AVAILABLE))
                    .collect()
            }
        };
        let Some(tm) = self.transactions.as_mut() else {
            return;
        };
        match tm.on_partitions_added(&results) {
            None => {}
            Some((TxnErrorClass::Retry, _)) => {
                self.control_retry_at = Some(now + self.config.client.retry_backoff);
            }
            Some((TxnErrorClass::FindCoordinator, _)) => {
                self.control_retry_at = Some(now + self.config.client.retry_backoff);
                self.push_event(Event::FindTransactionCoordinator);
            }
            Some((_, code)) => {
                let err = tm.fail("send", code, Some("AddPartitionsToTxn".into()));
                tracing::warn!(error = %err, "transaction failed");
            }
        }
    }

    fn succeed(&mut self, batch: ProducerBatch, base_offset: i64, log_append_time: i64) {
        if let Some(seq) = batch.sequence {
            self.idempotence.on_acked(&batch.tp, seq.base_sequence);
        }
        self.finish(&batch);
        batch.complete(base_offset, log_append_time);
    }

    /// A batch failed with `code`: retry it in sequence order, treat it as written, or fail it
    /// (and the transaction it belongs to).
    fn retry_or_fail(
        &mut self,
        mut batch: ProducerBatch,
        code: ErrorCode,
        err: Option<Error>,
        now: Instant,
    ) {
        let outcome = match batch.sequence {
            Some(seq) => self
                .idempotence
                .on_failed(&batch.tp, seq.base_sequence, code),
            None if code.is_retriable() || code == ErrorCode::NETWORK_EXCEPTION => {
                BatchOutcome::Retry
            }
            None => BatchOutcome::Fail(code),
        };
        if code.invalidates_metadata() {
            self.push_event(Event::RefreshMetadata);
        }
        let err = err.unwrap_or_else(|| Error::kafka("Produce", batch.tp.to_string(), code, None));
        match outcome {
            BatchOutcome::AlreadyWritten => self.succeed(batch, -1, -1),
            BatchOutcome::BumpEpochThenRetry if self.is_transactional() => {
                // A transactional producer bumps its epoch only when the transaction aborts.
                self.fail_batch(batch, Some(code), err);
            }
            BatchOutcome::Retry | BatchOutcome::BumpEpochThenRetry => {
                let expired =
                    now.saturating_duration_since(batch.created) >= self.config.delivery_timeout;
                if expired || batch.attempts >= self.config.retries {
                    if let Some(seq) = batch.sequence {
                        self.idempotence.on_abandoned(&batch.tp, seq.base_sequence);
                    }
                    let err = if expired {
                        ClientError::DeliveryTimeout {
                            topic_partition: batch.tp.clone(),
                            timeout: self.config.delivery_timeout,
                            attempts: batch.attempts,
                            last: Some(Box::new(err)),
                        }
                        .into()
                    } else {
                        err
                    };
                    self.fail_batch(batch, None, err);
                    return;
                }
                tracing::debug!(tp = %batch.tp, error = %err, attempt = batch.attempts + 1, "retrying batch");
                batch.last_error = Some(err);
                batch.attempts += 1;
                batch.retry_at = Some(now + self.retry_backoff_for(code, batch.attempts - 1));
                self.accumulator.requeue(batch);
            }
            BatchOutcome::Fail(_) => self.fail_batch(batch, Some(code), err),
        }
    }

    /// How long a batch that failed with `code` waits before attempt `attempts + 1`.
    ///
    /// A transactional batch refused with CONCURRENT_TRANSACTIONS — or NOT_ENOUGH_REPLICAS,
    /// which brokers answer in its place to Produce versions before it existed (KIP-890) — was
    /// sent while the coordinator still writes the previous transaction's markers: it retries
    /// after [`completing_backoff`](crate::producer::transaction_manager::completing_backoff).
    pub(super) fn retry_backoff_for(&self, code: ErrorCode, attempts: u32) -> Duration {
        let full = self.config.client.retry_backoff;
        let completing =
            code == ErrorCode::CONCURRENT_TRANSACTIONS || code == ErrorCode::NOT_ENOUGH_REPLICAS;
        if self.is_transactional() && completing {
            crate::producer::transaction_manager::completing_backoff(attempts, full)
        } else {
            full
        }
    }

    /// Fail every record of `batch` with `err`; for a transactional producer the transaction
    /// can no longer commit (or, with a fencing `code`, the producer is done).
    pub(super) fn fail_batch(&mut self, batch: ProducerBatch, code: Option<ErrorCode>, err: Error) {
        self.finish(&batch);
        if let Some(tm) = self.transactions.as_mut() {
            match code {
                Some(code) => {
                    tm.fail("send", code, Some(err.to_string()));
                }
                None => tm.record(Error::Transaction {
                    operation: "send",
                    kind: TransactionErrorKind::Abortable,
                    code: err.code(),
                    detail: format!("a record of the transaction was not delivered: {err}"),
                }),
            }
        }
        batch.fail(err);
    }
}
