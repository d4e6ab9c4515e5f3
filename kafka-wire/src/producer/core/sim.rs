//! A simulated cluster and clock for the core's unit tests: partition logs with the broker's
//! idempotence checks (per producer id: epoch and last sequence), leaders that can move, and
//! answers that a test can replace with an injected error. No sockets, no real time.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Event, ProducerCore, RequestId, Transmit};
use crate::cluster::{BrokerMetadata, ClusterMetadata, PartitionMetadata, TopicMetadata};
use crate::config::BrokerAddress;
use crate::error::Error;
use crate::producer::delivery::DeliveryFuture;
use crate::protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnResponse, AddPartitionsToTxnTopicResult,
};
use crate::protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use crate::protocol::messages::{InitProducerIdResponse, ProduceRequest, ProduceResponse};
use crate::protocol::record_batch::{decode_batches, DecodeLimits, Record};
use crate::protocol::{ErrorCode, Uuid};
use crate::TopicPartition;

/// One record in a simulated log: its value, and the producer id and epoch that wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub value: Bytes,
    pub producer_id: i64,
    pub epoch: i16,
}

/// What a broker remembers of one producer on one partition.
#[derive(Debug, Clone, Copy)]
struct ProducerEntry {
    epoch: i16,
    last_sequence: i32,
}

/// The simulated cluster: brokers 1 and 2, topic `t` with `partitions` partitions.
#[derive(Debug)]
pub struct SimCluster {
    pub metadata: ClusterMetadata,
    pub logs: HashMap<TopicPartition, Vec<Written>>,
    producers: HashMap<(TopicPartition, i64), ProducerEntry>,
    next_producer_id: i64,
    /// Epoch per producer id, as the transaction coordinator sees it.
    epochs: HashMap<i64, i16>,
    /// Refuse a batch from a producer the partition does not know unless its sequence is 0
    /// (UNKNOWN_PRODUCER_ID), as brokers before KIP-360's relaxation do.
    pub strict_unknown_producer: bool,
}

impl SimCluster {
    pub fn new(partitions: i32, leader: i32) -> Self {
        let mut metadata = ClusterMetadata::default();
        for node_id in [1, 2] {
            metadata.brokers.insert(
                node_id,
                BrokerMetadata {
                    node_id,
                    address: BrokerAddress {
                        host: format!("sim-{node_id}"),
                        port: 9092,
                    },
                    rack: None,
                },
            );
        }
        metadata.topics.insert(
            "t".into(),
            TopicMetadata {
                name: "t".into(),
                topic_id: Uuid([7; 16]),
                is_internal: false,
                partitions: (0..partitions)
                    .map(|partition| PartitionMetadata {
                        partition,
                        leader: Some(leader),
                        leader_epoch: 0,
                        replicas: vec![1, 2],
                        isr: vec![1, 2],
                        offline_replicas: vec![],
                        error: ErrorCode::NONE,
                    })
                    .collect(),
                error: ErrorCode::NONE,
            },
        );
        SimCluster {
            metadata,
            logs: HashMap::new(),
            producers: HashMap::new(),
            next_producer_id: 1000,
            epochs: HashMap::new(),
            strict_unknown_producer: false,
        }
    }

    /// Move the leader of `t-partition` to `node` (or to none).
    pub fn set_leader(&mut self, partition: i32, node: Option<i32>) {
        if let Some(t) = self.metadata.topics.get_mut("t") {
            for p in &mut t.partitions {
                if p.partition == partition {
                    p.leader = node;
                    p.leader_epoch += 1;
                }
            }
        }
    }

    /// The broker forgets every producer (as after retention removed their batches).
    pub fn forget_producers(&mut self) {
        self.producers.clear();
    }

    /// The values of `t-partition`'s log, in offset order.
    pub fn values(&self, partition: i32) -> Vec<String> {
        self.logs
            .get(&TopicPartition::new("t", partition))
            .map(|log| {
                log.iter()
                    .map(|w| String::from_utf8_lossy(&w.value).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// InitProducerId: a new id, or the next epoch of the given one (KIP-360).
    pub fn init_producer_id(&mut self, producer_id: i64, epoch: i16) -> InitProducerIdResponse {
        let (producer_id, epoch) = if producer_id >= 0 {
            let e = self.epochs.entry(producer_id).or_insert(epoch);
            *e = e.saturating_add(1).max(epoch.saturating_add(1));
            (producer_id, *e)
        } else {
            self.next_producer_id += 1;
            self.epochs.insert(self.next_producer_id, 0);
            (self.next_producer_id, 0)
        };
        InitProducerIdResponse {
            producer_id,
            producer_epoch: epoch,
            ..Default::default()
        }
    }

    /// Another producer with the same transactional id initialized: older epochs are fenced.
    pub fn fence(&mut self, producer_id: i64) {
        if let Some(e) = self.epochs.get_mut(&producer_id) {
            *e += 1;
        }
    }

    /// A broker `node` handles a Produce request, as Kafka does for idempotent batches.
    pub fn produce(&mut self, node: i32, request: &ProduceRequest) -> ProduceResponse {
        let mut responses = Vec::new();
        for topic in &request.topic_data {
            let mut partition_responses = Vec::new();
            for p in &topic.partition_data {
                let tp = TopicPartition::new(topic.name.clone(), p.index);
                let (code, base_offset) = self.append(node, &tp, p.records.clone());
                partition_responses.push(PartitionProduceResponse {
                    index: p.index,
                    error_code: code.0,
                    base_offset,
                    log_append_time_ms: -1,
                    ..Default::default()
                });
            }
            responses.push(TopicProduceResponse {
                name: topic.name.clone(),
                partition_responses,
                ..Default::default()
            });
        }
        ProduceResponse {
            responses,
            ..Default::default()
        }
    }

    fn append(
        &mut self,
        node: i32,
        tp: &TopicPartition,
        records: Option<Bytes>,
    ) -> (ErrorCode, i64) {
        let leader = self
            .metadata
            .topics
            .get(&tp.topic)
            .and_then(|t| t.partitions.iter().find(|p| p.partition == tp.partition))
            .and_then(|p| p.leader);
        if leader != Some(node) {
            return (ErrorCode::NOT_LEADER_OR_FOLLOWER, -1);
        }
        let Ok(batches) = decode_batches(records.unwrap_or_default(), DecodeLimits::default())
        else {
            return (ErrorCode::CORRUPT_MESSAGE, -1);
        };
        let mut first_offset = -1;
        for batch in batches {
            let count = batch.records.len() as i32;
            if batch.producer_id >= 0 {
                let current_epoch = self.epochs.get(&batch.producer_id).copied();
                if current_epoch.is_some_and(|e| batch.producer_epoch < e) {
                    return (ErrorCode::PRODUCER_FENCED, -1);
                }
                let key = (tp.clone(), batch.producer_id);
                match self.producers.get(&key) {
                    None if self.strict_unknown_producer && batch.base_sequence != 0 => {
                        return (ErrorCode::UNKNOWN_PRODUCER_ID, -1);
                    }
                    // A producer the partition does not know: any first sequence is taken.
                    None => {}
                    Some(e) if batch.producer_epoch > e.epoch && batch.base_sequence != 0 => {
                        return (ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, -1);
                    }
                    Some(e) if batch.producer_epoch > e.epoch => {}
                    Some(e) if batch.producer_epoch < e.epoch => {
                        return (ErrorCode::INVALID_PRODUCER_EPOCH, -1);
                    }
                    Some(e) if batch.base_sequence <= e.last_sequence => {
                        return (ErrorCode::DUPLICATE_SEQUENCE_NUMBER, -1);
                    }
                    Some(e) if batch.base_sequence != e.last_sequence + 1 => {
                        return (ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, -1);
                    }
                    Some(_) => {}
                }
                self.producers.insert(
                    key,
                    ProducerEntry {
                        epoch: batch.producer_epoch,
                        last_sequence: batch.base_sequence + count - 1,
                    },
                );
            }
            let log = self.logs.entry(tp.clone()).or_default();
            if first_offset < 0 {
                first_offset = log.len() as i64;
            }
            for r in batch.records {
                log.push(Written {
                    value: r.value.unwrap_or_default(),
                    producer_id: batch.producer_id,
                    epoch: batch.producer_epoch,
                });
            }
        }
        (ErrorCode::NONE, first_offset)
    }
}

/// A request the core asked for and the test has not answered yet.
#[derive(Debug)]
pub enum OnWire {
    Produce {
        id: RequestId,
        node: i32,
        request: ProduceRequest,
    },
    InitProducerId {
        id: RequestId,
        producer_id: i64,
        epoch: i16,
    },
    AddPartitions {
        id: RequestId,
        partitions: Vec<TopicPartition>,
    },
}

/// A core, the simulated cluster, a clock, and the records sent with their delivery results.
pub struct Harness {
    pub core: ProducerCore,
    pub cluster: SimCluster,
    pub now: Instant,
    pub wire: VecDeque<OnWire>,
    pub events: Vec<Event>,
    pub deliveries: Vec<(String, DeliveryFuture)>,
    /// `buffer.memory` given back so far.
    pub released: usize,
}

impl Harness {
    pub fn new(core: ProducerCore, cluster: SimCluster) -> Self {
        Harness {
            core,
            cluster,
            now: Instant::now(),
            wire: VecDeque::new(),
            events: Vec::new(),
            deliveries: Vec::new(),
            released: 0,
        }
    }

    /// Queue one record with `value` for `t-partition`.
    pub fn send(&mut self, partition: i32, value: &str) -> Result<(), Error> {
        let record = Record {
            offset: 0,
            timestamp: 1,
            key: None,
            value: Some(Bytes::copy_from_slice(value.as_bytes())),
            headers: vec![],
        };
        let size = 10 + value.len();
        let (_, delivery) =
            self.core
                .append(&TopicPartition::new("t", partition), record, size, self.now)?;
        self.deliveries.push((value.to_owned(), delivery));
        Ok(())
    }

    /// Let time pass, then let the core act on it.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.core.handle_timeout(self.now);
    }

    /// Collect what the core wants to send and its events.
    pub fn poll(&mut self) {
        self.core.handle_timeout(self.now);
        while let Some(t) = self.core.poll_transmit(self.now, &self.cluster.metadata) {
            self.wire.push_back(match t {
                Transmit::Produce {
                    id, node, request, ..
                } => OnWire::Produce { id, node, request },
                Transmit::InitProducerId { id, request } => OnWire::InitProducerId {
                    id,
                    producer_id: request.producer_id,
                    epoch: request.producer_epoch,
                },
                Transmit::AddPartitionsToTxn { id, request } => OnWire::AddPartitions {
                    id,
                    partitions: request
                        .v3_and_below_topics
                        .iter()
                        .flat_map(|t| {
                            t.partitions
                                .iter()
                                .map(|p| TopicPartition::new(t.name.clone(), *p))
                        })
                        .collect(),
                },
            });
        }
        while let Some(e) = self.core.poll_event() {
            if let Event::MemoryReleased(n) = e {
                self.released += n;
            }
            self.events.push(e);
        }
    }

    /// Produce requests on the wire now.
    pub fn produce_in_flight(&self) -> usize {
        self.wire
            .iter()
            .filter(|w| matches!(w, OnWire::Produce { .. }))
            .count()
    }

    /// The broker answers the oldest request on the wire.
    pub fn answer_next(&mut self) {
        let Some(w) = self.wire.pop_front() else {
            return;
        };
        match w {
            OnWire::Produce { id, node, request } => {
                let response = self.cluster.produce(node, &request);
                self.core
                    .handle_produce_response(id, Ok(Some(response)), self.now);
            }
            OnWire::InitProducerId {
                id,
                producer_id,
                epoch,
            } => {
                let response = self.cluster.init_producer_id(producer_id, epoch);
                self.core
                    .handle_init_producer_id(id, Ok(response), self.now);
            }
            OnWire::AddPartitions { id, partitions } => {
                let response = add_partitions_ok(&partitions);
                self.core.handle_add_partitions(id, Ok(response), self.now);
            }
        }
        self.poll();
    }

    /// The oldest produce request fails with `code` for every partition, without reaching
    /// the log (a request the broker timed out, say).
    pub fn fail_next(&mut self, code: ErrorCode) {
        let Some(OnWire::Produce { id, request, .. }) = self.wire.pop_front() else {
            panic!("no produce request on the wire");
        };
        let response = ProduceResponse {
            responses: request
                .topic_data
                .iter()
                .map(|t| TopicProduceResponse {
                    name: t.name.clone(),
                    partition_responses: t
                        .partition_data
                        .iter()
                        .map(|p| PartitionProduceResponse {
                            index: p.index,
                            error_code: code.0,
                            base_offset: -1,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        self.core
            .handle_produce_response(id, Ok(Some(response)), self.now);
        self.poll();
    }

    /// Answer everything on the wire, in order, until nothing more is sent.
    pub fn run_until_quiet(&mut self) {
        self.poll();
        let mut steps = 0;
        while !self.wire.is_empty() {
            self.answer_next();
            steps += 1;
            assert!(steps < 10_000, "the core never went quiet");
        }
    }

    /// The delivery result of every record sent so far, in send order (`None`: still pending).
    pub fn results(&mut self) -> Vec<(String, Option<Result<i64, Error>>)> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        self.deliveries
            .iter_mut()
            .map(|(v, delivery)| {
                let r = match std::pin::Pin::new(delivery).poll(&mut cx) {
                    std::task::Poll::Ready(r) => Some(r.map(|m| m.offset)),
                    std::task::Poll::Pending => None,
                };
                (v.clone(), r)
            })
            .collect()
    }
}

fn add_partitions_ok(partitions: &[TopicPartition]) -> AddPartitionsToTxnResponse {
    let mut topics: Vec<AddPartitionsToTxnTopicResult> = Vec::new();
    for tp in partitions {
        let result = AddPartitionsToTxnPartitionResult {
            partition_index: tp.partition,
            partition_error_code: 0,
            ..Default::default()
        };
        match topics.iter_mut().find(|t| t.name == tp.topic) {
            Some(t) => t.results_by_partition.push(result),
            None => topics.push(AddPartitionsToTxnTopicResult {
                name: tp.topic.clone(),
                results_by_partition: vec![result],
                ..Default::default()
            }),
        }
    }
    AddPartitionsToTxnResponse {
        results_by_topic_v3_and_below: topics,
        ..Default::default()
    }
}
