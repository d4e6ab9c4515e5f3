//! Layer 3: the producer.
//!
//! ```no_run
//! # async fn demo() -> kafka_wire::Result<()> {
//! use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
//!
//! let producer = Producer::connect(ProducerConfig::new("127.0.0.1:9092")).await?;
//! let delivery = producer.send(ProducerRecord::new("orders").key("k").value("v")).await?;
//! let written = delivery.await?;
//! println!("{}-{}@{}", written.topic, written.partition, written.offset);
//! producer.close().await?;
//! # Ok(()) }
//! ```
//!
//! `send` waits only while `buffer.memory` is used up (backpressure) or metadata is missing,
//! then returns a [`DeliveryFuture`]. Records are batched per partition (`batch.size`,
//! `linger.ms`), compressed (`compression.type`), and sent by a background task with up to
//! `max.in.flight.requests.per.connection` requests per broker. Idempotence is on by default
//! (as in the Java client since 3.0): retries never duplicate or reorder records. Keyless
//! records are partitioned adaptively (KIP-794): after each ready pass the sender hands the
//! accumulator's queue lengths to the partitioner, which favours less loaded partitions.
//!
//! The pure-logic parts are plain types unit-tested without sockets:
//! [`partitioner`] (Java-identical), [`idempotence`] (sequence numbers, KIP-360 recovery) and
//! the accumulator; the sender is the tokio shell around them.

mod accumulator;
mod config;
pub mod idempotence;
pub mod partitioner;
mod record;
mod sender;
pub mod transaction_manager;
mod transactions;

pub use config::{Acks, ProducerConfig, PRODUCER_KEYS};
pub use record::{DeliveryFuture, ProducerRecord, RecordMetadata};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{oneshot, Notify, Semaphore};

use crate::cluster::coordinator::{Coordinator, CoordinatorType};
use crate::cluster::{Client, TopicMetadata};
use crate::error::{Error, Result};
use crate::protocol::record_batch::Record;
use crate::protocol::ErrorCode;
use crate::TopicPartition;
use accumulator::Accumulator;
use idempotence::IdempotenceState;
use partitioner::{DefaultPartitioner, Partitioner, TopicInfo};
use transaction_manager::TransactionManager;

pub(crate) struct Shared {
    client: Client,
    config: ProducerConfig,
    partitioner: DefaultPartitioner,
    custom_partitioner: Option<Arc<dyn Partitioner>>,
    accumulator: Mutex<Accumulator>,
    idempotence: Mutex<IdempotenceState>,
    memory: Semaphore,
    wake: Notify,
    idle: Notify,
    flushes: AtomicUsize,
    /// Records accepted by `send` whose delivery has not completed (queued or in flight).
    pending: AtomicUsize,
    closing: AtomicBool,
    refreshing: AtomicBool,
    /// Set for a transactional producer (`transactional.id`).
    txn: Option<Txn>,
}

/// A transactional producer's state and coordinator.
pub(crate) struct Txn {
    manager: Mutex<TransactionManager>,
    coordinator: Coordinator,
}

impl Shared {
    fn acc(&self) -> std::sync::MutexGuard<'_, Accumulator> {
        self.accumulator.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn idem(&self) -> std::sync::MutexGuard<'_, IdempotenceState> {
        self.idempotence.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The transaction manager, for a transactional producer.
    fn tm(&self) -> Option<std::sync::MutexGuard<'_, TransactionManager>> {
        self.txn
            .as_ref()
            .map(|t| t.manager.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A record of the current transaction could not be delivered: the transaction cannot
    /// commit (or, for fencing codes, the producer is done).
    fn note_txn_failure(&self, code: Option<ErrorCode>, err: &Error) {
        if let Some(mut tm) = self.tm() {
            match code {
                Some(code) => {
                    tm.fail("send", code, Some(err.to_string()));
                }
                None => tm.record(Error::Transaction {
                    operation: "send",
                    kind: crate::error::TransactionErrorKind::Abortable,
                    code: err.code(),
                    detail: format!("a record of the transaction was not delivered: {err}"),
                }),
            }
        }
    }

    fn accumulator_len(&self) -> usize {
        self.acc().len()
    }

    fn is_idle(&self, in_flight: &HashMap<i32, usize>) -> bool {
        self.accumulator_len() == 0 && in_flight.values().all(|n| *n == 0)
    }

    fn flushing(&self) -> bool {
        self.flushes.load(Ordering::SeqCst) > 0 || self.closing()
    }

    fn closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    fn release(&self, bytes: usize) {
        self.memory.add_permits(bytes);
    }

    /// A batch is done (delivered or failed): give back its memory and count its records out.
    fn finish(&self, batch: &accumulator::ProducerBatch) {
        self.release(batch.reserved());
        self.pending
            .fetch_sub(batch.deliveries.len(), Ordering::SeqCst);
    }

    /// Whether every record accepted so far has completed.
    fn all_delivered(&self) -> bool {
        self.pending.load(Ordering::SeqCst) == 0
    }
}

/// An asynchronous, batching, idempotent Kafka producer. Cheap to clone.
#[derive(Clone)]
pub struct Producer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("idempotent", &self.shared.config.enable_idempotence)
            .finish()
    }
}

impl Producer {
    /// Validate `config`, connect, and start the sender.
    pub async fn connect(config: ProducerConfig) -> Result<Producer> {
        Self::with_partitioner(config, None).await
    }

    /// Like [`Producer::connect`] with a custom partitioner (consulted first; `None` from it
    /// falls back to the built-in choice).
    pub async fn with_partitioner(
        mut config: ProducerConfig,
        partitioner: Option<Arc<dyn Partitioner>>,
    ) -> Result<Producer> {
        config.validate()?;
        let client = Client::connect(config.client.clone()).await?;
        client.set_allow_auto_topic_creation(true);
        let txn = config.transactional_id.as_ref().map(|id| Txn {
            manager: Mutex::new(TransactionManager::new(id.clone())),
            coordinator: Coordinator::new(client.clone(), CoordinatorType::Transaction, id.clone()),
        });
        let shared = Arc::new(Shared {
            client,
            partitioner: DefaultPartitioner::from_config(&config),
            custom_partitioner: partitioner,
            accumulator: Mutex::new(Accumulator::new(config.batch_size, config.linger)),
            idempotence: Mutex::new(IdempotenceState::new()),
            memory: Semaphore::new(config.buffer_memory.min(Semaphore::MAX_PERMITS)),
            wake: Notify::new(),
            idle: Notify::new(),
            flushes: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            refreshing: AtomicBool::new(false),
            txn,
            config,
        });
        tokio::spawn(sender::run(shared.clone()));
        Ok(Producer { shared })
    }

    /// The cluster client underneath.
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// Queue a record. Waits (up to `max.block.ms`) for metadata of a new topic and for
    /// `buffer.memory`; the returned future resolves when the record is written or has failed.
    pub async fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture> {
        let shared = &self.shared;
        if shared.closing() {
            return Err(Error::InvalidArgument("the producer is closed".into()));
        }
        let size = record.estimated_size();
        if size + 61 > shared.config.max_request_size {
            return Err(Error::kafka(
                "Produce",
                record.topic.clone(),
                ErrorCode::MESSAGE_TOO_LARGE,
                Some(format!(
                    "the record is about {size} bytes, more than max.request.size ({})",
                    shared.config.max_request_size
                )),
            ));
        }
        let deadline = Instant::now() + shared.config.max_block;
        let partition = self.partition_for(&record, size, deadline).await?;
        let wait = deadline.saturating_duration_since(Instant::now());
        let permits = u32::try_from(size).unwrap_or(u32::MAX);
        match tokio::time::timeout(wait, shared.memory.acquire_many(permits)).await {
            Ok(Ok(p)) => p.forget(),
            Ok(Err(_)) => return Err(Error::InvalidArgument("the producer is closed".into())),
            Err(_) => {
                return Err(Error::Timeout {
                    operation: "send (waiting for buffer.memory)",
                    timeout: shared.config.max_block,
                    last: Box::new(Error::InvalidArgument(format!(
                        "buffer.memory ({} bytes) is full",
                        shared.config.buffer_memory
                    ))),
                })
            }
        }
        let timestamp = record.timestamp.unwrap_or_else(now_ms);
        let (tx, rx) = oneshot::channel();
        let tp = TopicPartition::new(record.topic, partition);
        if let Some(mut tm) = shared.tm() {
            if let Err(e) = tm.add_partition(&tp) {
                shared.release(size);
                return Err(e);
            }
        }
        // Counted before the sender can see the record, so it is never counted out first.
        shared.pending.fetch_add(1, Ordering::SeqCst);
        let wake = shared.acc().append(
            &tp,
            Record {
                offset: 0,
                timestamp,
                key: record.key,
                value: record.value,
                headers: record.headers,
            },
            size,
            (tx, timestamp),
            Instant::now(),
        );
        if wake {
            shared.wake.notify_one();
        }
        Ok(DeliveryFuture { rx })
    }

    async fn partition_for(
        &self,
        record: &ProducerRecord,
        size: usize,
        deadline: Instant,
    ) -> Result<i32> {
        let shared = &self.shared;
        loop {
            // Fast path: fresh metadata for the topic, read in place (no copy per record).
            let fresh = !shared.client.metadata_needs_refresh();
            let chosen = shared.client.with_metadata(|m| {
                let topic = m
                    .topics
                    .get(&record.topic)
                    .filter(|t| !t.partitions.is_empty())?;
                Some(self.choose(record, size, topic))
            });
            match chosen {
                Some(choice) if fresh => return choice,
                _ => {}
            }
            let last = match shared
                .client
                .ensure_metadata(std::slice::from_ref(&record.topic))
                .await
            {
                Ok(()) => {
                    let chosen = shared.client.with_metadata(|m| {
                        let topic = m
                            .topics
                            .get(&record.topic)
                            .filter(|t| !t.partitions.is_empty())?;
                        Some(self.choose(record, size, topic))
                    });
                    match chosen {
                        Some(choice) => return choice,
                        None => Error::kafka(
                            "Metadata",
                            record.topic.clone(),
                            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                            None,
                        ),
                    }
                }
                Err(e) => e,
            };
            if Instant::now() >= deadline || !last.is_retriable() {
                return Err(Error::Timeout {
                    operation: "send (waiting for topic metadata, max.block.ms)",
                    timeout: shared.config.max_block,
                    last: Box::new(last),
                });
            }
            shared.client.invalidate_metadata();
            tokio::time::sleep(shared.config.client.retry_backoff).await;
        }
    }

    /// The partition for `record` among `topic`'s partitions.
    fn choose(&self, record: &ProducerRecord, size: usize, topic: &TopicMetadata) -> Result<i32> {
        let count = topic.partitions.len();
        if let Some(p) = record.partition {
            if p < 0 || p as usize >= count {
                return Err(Error::InvalidArgument(format!(
                    "partition {p} of {} does not exist (it has {count})",
                    record.topic
                )));
            }
            return Ok(p);
        }
        let Some(custom) = &self.shared.custom_partitioner else {
            // The built-in choice reads the metadata in place: nothing allocated per record.
            return Ok(self.shared.partitioner.choose_in(
                &record.topic,
                &topic.partitions,
                record.key.as_deref(),
                size,
            ));
        };
        let available: Vec<i32> = topic
            .partitions
            .iter()
            .filter(|p| p.leader.is_some())
            .map(|p| p.partition)
            .collect();
        let info = TopicInfo {
            topic: &record.topic,
            partitions: count,
            available: &available,
        };
        if let Some(p) = custom.partition(&info, record.key.as_deref()) {
            return Ok(p);
        }
        Ok(self
            .shared
            .partitioner
            .choose(&info, record.key.as_deref(), size))
    }

    /// Send everything queued now and wait until each record is written or failed.
    pub async fn flush(&self) {
        self.wait_delivered(|| false).await
    }

    /// Wait until every record accepted so far has been acknowledged or has failed (not just
    /// handed to a connection), or until `give_up()`; the sender sends without lingering
    /// meanwhile.
    pub(crate) async fn wait_delivered(&self, give_up: impl Fn() -> bool) {
        let shared = &self.shared;
        shared.flushes.fetch_add(1, Ordering::SeqCst);
        loop {
            let idle = shared.idle.notified();
            shared.wake.notify_one();
            if shared.all_delivered() || give_up() {
                break;
            }
            let _ = tokio::time::timeout(std::time::Duration::from_millis(50), idle).await;
        }
        shared.flushes.fetch_sub(1, Ordering::SeqCst);
    }

    /// Flush, then stop the sender. Later sends fail.
    pub async fn close(&self) -> Result<()> {
        self.flush().await;
        self.shared.closing.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        Ok(())
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
