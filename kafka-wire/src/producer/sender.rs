//! The sender task: the tokio shell around [`ProducerCore`]. It makes no decision of its own:
//! after every input it drains the core's requests ([`ProducerCore::poll_transmit`]) and events
//! ([`ProducerCore::poll_event`]), puts the requests on the wire, feeds the answers back with
//! the time they arrived, and sleeps until the core's next deadline
//! ([`ProducerCore::poll_timeout`]) or a wake-up.
//!
//! Produce requests to one broker go out in the order the core made them (a partition's
//! batches must arrive in sequence order): one task per broker writes them, and each answer is
//! awaited in its own task so requests stay pipelined.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::core::{Event, ProducerCore, RequestId, Transmit, MAX_ADD_PARTITIONS_VERSION};
use super::Shared;
use crate::error::{ClientError, Error};
use crate::protocol::messages::add_partitions_to_txn_response::AddPartitionsToTxnResponse;
use crate::protocol::messages::{InitProducerIdResponse, ProduceRequest, ProduceResponse};
use crate::protocol::versioned::fit_produce_request;
use crate::protocol::ApiKey;

/// How long the sender sleeps when the core has no deadline (it is woken for anything new).
const IDLE_SLEEP: Duration = Duration::from_secs(1);

/// An answer for the core, back from the task that waited for it.
enum Answer {
    Produce(RequestId, Result<Option<ProduceResponse>, Error>),
    InitProducerId(RequestId, Result<InitProducerIdResponse, Error>),
    AddPartitions(RequestId, Result<AddPartitionsToTxnResponse, Error>),
    MetadataRefreshed,
}

/// A Produce request for a broker task.
struct ProduceTransmit {
    id: RequestId,
    request: ProduceRequest,
    max_version: i16,
    expects_response: bool,
}

pub(super) async fn run(shared: Arc<Shared>) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Answer>();
    let mut nodes = NodeSenders {
        senders: HashMap::new(),
        done: done_tx.clone(),
    };
    let mut refreshing = false;
    loop {
        let now = Instant::now();
        let mut transmits = Vec::new();
        let mut events = Vec::new();
        // Read in place under the metadata read lock (no copy of the cluster metadata per
        // pass); lock order everywhere: metadata, then core.
        let (timeout, progressed, finished) = shared.client.with_metadata(|metadata| {
            let mut core = shared.core();
            core.handle_timeout(now);
            while let Some(t) = core.poll_transmit(now, metadata) {
                transmits.push(t);
            }
            while let Some(e) = core.poll_event() {
                events.push(e);
            }
            let load = core.load();
            shared
                .partitioner
                .load_stats()
                .update(&load.queues, metadata, &load.latency);
            (
                core.poll_timeout(),
                core.all_delivered() || core.transaction_failed(),
                core.is_finished(),
            )
        });
        if progressed {
            shared.progress.notify_waiters();
        }
        let mut refresh = shared.client.metadata_needs_refresh();
        for event in events {
            match event {
                Event::MemoryReleased(bytes) => shared.memory.add_permits(bytes),
                Event::RefreshMetadata => refresh = true,
                Event::FindTransactionCoordinator => {
                    if let Some(c) = &shared.txn_coordinator {
                        c.mark_unknown();
                    }
                }
            }
        }
        if refresh && !refreshing {
            refreshing = true;
            spawn_refresh(&shared, done_tx.clone());
        }
        for t in transmits {
            dispatch(&shared, &mut nodes, &done_tx, t);
        }
        if finished {
            return;
        }
        let sleep = timeout.unwrap_or(now + IDLE_SLEEP);
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep_until(sleep.into()) => {}
            Some(answer) = done_rx.recv() => {
                let mut core = shared.core();
                apply(&mut core, answer, &mut refreshing);
                while let Ok(answer) = done_rx.try_recv() {
                    apply(&mut core, answer, &mut refreshing);
                }
            }
        }
    }
}

/// Feed one answer to the core, stamped with the time it is applied.
fn apply(core: &mut ProducerCore, answer: Answer, refreshing: &mut bool) {
    let now = Instant::now();
    match answer {
        Answer::Produce(id, result) => core.handle_produce_response(id, result, now),
        Answer::InitProducerId(id, result) => core.handle_init_producer_id(id, result, now),
        Answer::AddPartitions(id, result) => core.handle_add_partitions(id, result, now),
        Answer::MetadataRefreshed => *refreshing = false,
    }
}

fn spawn_refresh(shared: &Arc<Shared>, done: mpsc::UnboundedSender<Answer>) {
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
        let _ = done.send(Answer::MetadataRefreshed);
    });
}

/// Put one of the core's requests on its way.
fn dispatch(
    shared: &Arc<Shared>,
    nodes: &mut NodeSenders,
    done: &mpsc::UnboundedSender<Answer>,
    transmit: Transmit,
) {
    match transmit {
        Transmit::Produce {
            id,
            node,
            request,
            max_version,
            expects_response,
        } => nodes.send(
            shared,
            node,
            ProduceTransmit {
                id,
                request,
                max_version,
                expects_response,
            },
        ),
        Transmit::InitProducerId { id, request } => {
            let shared = shared.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let result = shared
                    .client
                    .retry("InitProducerId", || shared.client.send_routed(&request))
                    .await;
                let _ = done.send(Answer::InitProducerId(id, result));
            });
        }
        Transmit::AddPartitionsToTxn { id, request } => {
            let shared = shared.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let result = match &shared.txn_coordinator {
                    Some(c) => {
                        c.send_versioned(MAX_ADD_PARTITIONS_VERSION, |_| request)
                            .await
                    }
                    None => Err(ClientError::MissingSetting {
                        operation: "AddPartitionsToTxn",
                        key: "transactional.id",
                    }
                    .into()),
                };
                let _ = done.send(Answer::AddPartitions(id, result));
            });
        }
    }
}

/// One task per broker puts that broker's Produce requests on the wire in order.
struct NodeSenders {
    senders: HashMap<i32, mpsc::UnboundedSender<ProduceTransmit>>,
    done: mpsc::UnboundedSender<Answer>,
}

impl NodeSenders {
    fn send(&mut self, shared: &Arc<Shared>, node: i32, transmit: ProduceTransmit) {
        let tx = self.senders.entry(node).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(node_task(shared.clone(), node, rx, self.done.clone()));
            tx
        });
        if let Err(mpsc::error::SendError(t)) = tx.send(transmit) {
            // The task ended (cannot happen while the sender holds its channel); report it.
            let _ = self.done.send(Answer::Produce(
                t.id,
                Err(ClientError::ProducerDropped.into()),
            ));
        }
    }
}

async fn node_task(
    shared: Arc<Shared>,
    node: i32,
    mut requests: mpsc::UnboundedReceiver<ProduceTransmit>,
    done: mpsc::UnboundedSender<Answer>,
) {
    while let Some(t) = requests.recv().await {
        let id = t.id;
        match start_produce(&shared, node, t).await {
            Ok(Some(response)) => {
                let done = done.clone();
                tokio::spawn(async move {
                    let result = response.await.map(Some).map_err(Error::from);
                    let _ = done.send(Answer::Produce(id, result));
                });
            }
            Ok(None) => {
                let _ = done.send(Answer::Produce(id, Ok(None)));
            }
            Err(e) => {
                let _ = done.send(Answer::Produce(id, Err(e)));
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

/// Put one Produce request on the wire; `None` with `acks=0` (no response).
async fn start_produce(
    shared: &Shared,
    node: i32,
    t: ProduceTransmit,
) -> Result<Option<ProduceFuture>, Error> {
    let conn = shared.client.connection(node).await?;
    let version = conn.version_for(ApiKey::Produce)?;
    let (request, version) = fit_produce_request(t.request, version.min(t.max_version));
    if !t.expects_response {
        conn.send_no_response(&request, version).await?;
        return Ok(None);
    }
    tracing::trace!(node, "produce request on the wire");
    Ok(Some(Box::pin(conn.start(&request, version).await?)))
}
