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
pub(crate) mod core;
mod delivery;
pub mod idempotence;
pub mod partitioner;
mod record;
mod send_all;
mod sender;
pub mod transaction_manager;
mod transactions;
mod wall_clock;

pub use config::{Acks, ProducerConfig, PRODUCER_TABLE};
pub use delivery::DeliveryFuture;
pub use record::{ProducerRecord, RecordMetadata};

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::{Notify, Semaphore, TryAcquireError};

use self::core::ProducerCore;
use crate::cluster::coordinator::{Coordinator, CoordinatorType};
use crate::cluster::retry::RetryPolicy;
use crate::cluster::{Client, TopicMetadata};
use crate::error::{ClientError, Result};
use crate::protocol::record_batch::Record;
use crate::TopicPartition;
use partitioner::{DefaultPartitioner, Partitioner, TopicInfo};

/// What the [`Producer`] handles and the sender task share: the core behind one lock, and the
/// primitives that move time and wake-ups (no decision is made here).
pub(crate) struct Shared {
    client: Client,
    config: ProducerConfig,
    partitioner: DefaultPartitioner,
    custom_partitioner: Option<Arc<dyn Partitioner>>,
    core: Mutex<ProducerCore>,
    /// `buffer.memory`: `send` takes permits for a record's bytes, the sender gives them back
    /// when the core reports its batch done.
    memory: Semaphore,
    /// Wakes the sender: a batch started or filled, a flush or close began.
    wake: Notify,
    /// Wakes `flush`, `commit_transaction` and `abort_transaction`: every record accepted so
    /// far completed, or the transaction failed.
    progress: Notify,
    /// The transaction coordinator, for a transactional producer (`transactional.id`).
    txn_coordinator: Option<Coordinator>,
    /// Record timestamps from the instant `send` already read.
    wall_clock: wall_clock::WallClock,
}

impl Shared {
    fn core(&self) -> MutexGuard<'_, ProducerCore> {
        self.core.lock().unwrap_or_else(|p| p.into_inner())
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
        let txn_coordinator = config
            .transactional_id
            .as_ref()
            .map(|id| Coordinator::new(client.clone(), CoordinatorType::Transaction, id.clone()));
        let shared = Arc::new(Shared {
            client,
            partitioner: DefaultPartitioner::from_config(&config),
            custom_partitioner: partitioner,
            core: Mutex::new(ProducerCore::new(config.clone())),
            memory: Semaphore::new(config.buffer_memory.min(Semaphore::MAX_PERMITS)),
            wake: Notify::new(),
            progress: Notify::new(),
            txn_coordinator,
            wall_clock: wall_clock::WallClock::new(),
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
        // A closed producer refuses the record when it is appended (one lock per record).
        let size = record.estimated_size();
        if size + accumulator::BATCH_OVERHEAD > shared.config.max_request_size {
            return Err(ClientError::RecordTooLarge {
                topic: record.topic.clone(),
                size,
                max_request_size: shared.config.max_request_size,
            }
            .into());
        }
        let now = Instant::now();
        let deadline = now + shared.config.max_block;
        let partition = self.partition_for(&record, size, now, deadline).await?;
        let permits = u32::try_from(size).unwrap_or(u32::MAX);
        match shared.memory.try_acquire_many(permits) {
            Ok(p) => p.forget(),
            Err(TryAcquireError::Closed) => return Err(ClientError::ProducerClosed.into()),
            Err(TryAcquireError::NoPermits) => {
                // buffer.memory is used up: wait for the sender to free some, up to max.block.ms.
                let wait = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(wait, shared.memory.acquire_many(permits)).await {
                    Ok(Ok(p)) => p.forget(),
                    Ok(Err(_)) => return Err(ClientError::ProducerClosed.into()),
                    Err(_) => {
                        return Err(ClientError::BufferExhausted {
                            buffer_memory: shared.config.buffer_memory,
                            max_block: shared.config.max_block,
                        }
                        .into())
                    }
                }
            }
        }
        let timestamp = record
            .timestamp
            .unwrap_or_else(|| shared.wall_clock.millis_at(now));
        let tp = TopicPartition::new(record.topic, partition);
        let record = Record {
            offset: 0,
            timestamp,
            key: record.key,
            value: record.value,
            headers: record.headers,
        };
        let appended = shared.core().append(&tp, record, size, now);
        match appended {
            Ok((wake, delivery)) => {
                if wake {
                    shared.wake.notify_one();
                }
                Ok(delivery)
            }
            Err(e) => {
                shared.memory.add_permits(size);
                Err(e)
            }
        }
    }

    async fn partition_for(
        &self,
        record: &ProducerRecord,
        size: usize,
        now: Instant,
        deadline: Instant,
    ) -> Result<i32> {
        let shared = &self.shared;
        let max_age = shared.client.config().metadata_max_age;
        // Fast path: fresh metadata for the topic, read in place under one read lock (no copy
        // and no clock read per record beyond `now`).
        let chosen = shared.client.with_metadata(|m| {
            if m.needs_refresh(now, max_age) {
                return None;
            }
            let topic = m
                .topics
                .get(&record.topic)
                .filter(|t| !t.partitions.is_empty())?;
            Some(self.choose(record, size, topic))
        });
        if let Some(choice) = chosen {
            return choice;
        }
        let mut policy = RetryPolicy::new(
            "send (waiting for topic metadata, max.block.ms)",
            deadline.saturating_duration_since(now),
            &shared.config.client,
            now,
        );
        loop {
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
                        None => ClientError::UnknownTopic {
                            topic: record.topic.clone(),
                        }
                        .into(),
                    }
                }
                Err(e) => e,
            };
            shared
                .client
                .back_off(policy.on_error(last, Instant::now()), None)
                .await?;
        }
    }

    /// The partition for `record` among `topic`'s partitions.
    fn choose(&self, record: &ProducerRecord, size: usize, topic: &TopicMetadata) -> Result<i32> {
        let count = topic.partitions.len();
        if let Some(p) = record.partition {
            if p < 0 || p as usize >= count {
                return Err(ClientError::UnknownPartition {
                    topic: record.topic.clone(),
                    partition: p,
                    partitions: count,
                }
                .into());
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
        self.wait_delivered(|_| false).await
    }

    /// Wait until every record accepted so far has been acknowledged or has failed (not just
    /// handed to a connection), or until `give_up` says so; the sender sends without lingering
    /// meanwhile. Woken by the sender when the core reports progress, never by a timer.
    pub(crate) async fn wait_delivered(&self, mut give_up: impl FnMut(&mut ProducerCore) -> bool) {
        let shared = &self.shared;
        shared.core().begin_flush();
        shared.wake.notify_one();
        loop {
            let progress = shared.progress.notified();
            tokio::pin!(progress);
            progress.as_mut().enable();
            {
                let mut core = shared.core();
                if core.all_delivered() || give_up(&mut core) {
                    break;
                }
            }
            progress.await;
        }
        shared.core().end_flush();
    }

    /// Flush, then stop the sender. Later sends fail. A transactional producer whose
    /// transaction can no longer commit (fenced, abortable error) never sends its queued
    /// records: they fail at once instead of waiting out `delivery.timeout.ms`; records on the
    /// wire are still answered.
    pub async fn close(&self) -> Result<()> {
        self.wait_delivered(|core| {
            if core.transaction_failed() {
                core.abort_unsent();
                return core.all_delivered();
            }
            false
        })
        .await;
        self.shared.core().close();
        self.shared.wake.notify_one();
        Ok(())
    }
}
