//! Layer 2: the cluster. Bootstrap, the metadata cache, one connection per broker, and
//! routing a request to the right broker with retries.
//!
//! [`Client`] is the shared core that the producer, consumer and admin clients are built on.
//! It owns a [`ClusterMetadata`] cache, refreshed every `metadata.max.age.ms`, when a caller
//! reports stale metadata (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, a dead
//! connection …) and on demand; and a connection pool (`pool.rs`) that reconnects with
//! exponential backoff and jitter.

pub mod coordinator;
mod metadata;
mod pool;
pub mod retry;

pub use metadata::{
    BrokerMetadata, ClusterMetadata, LeaderLookup, PartitionMetadata, TopicMetadata,
};

use std::future::Future;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use crate::config::{BrokerAddress, ClientConfig};
use crate::connection::BrokerConnection;
use crate::error::{ClientError, ConnectionError, Error, Result};
use crate::protocol::messages::metadata_request::MetadataRequestTopic;
use crate::protocol::messages::MetadataRequest;
use crate::protocol::route::{route, Route};
use crate::protocol::Request;
use crate::TopicPartition;

pub use pool::ConnectionClass;
use pool::ConnectionPool;
use retry::{RetryDecision, RetryPolicy};

/// Which topics a metadata refresh asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicsToRefresh {
    /// Only brokers and controller.
    None,
    /// Every topic in the cluster.
    All,
    /// These topics (added to what is cached).
    Some(Vec<String>),
}

struct Inner {
    config: ClientConfig,
    metadata: RwLock<ClusterMetadata>,
    pool: ConnectionPool,
    refresh: tokio::sync::Mutex<()>,
    auto_create_topics: std::sync::atomic::AtomicBool,
}

/// The cluster-aware core shared by every client. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> kafka_wire::Result<()> {
/// use kafka_wire::{cluster::Client, config::ClientConfig};
/// let client = Client::connect(ClientConfig::new("127.0.0.1:9092")).await?;
/// let metadata = client.metadata();
/// println!("cluster {:?} has {} brokers", metadata.cluster_id, metadata.brokers.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("bootstrap", &self.inner.config.bootstrap_servers)
            .finish()
    }
}

impl Client {
    /// Validate `config`, reach a bootstrap server and load the broker list.
    pub async fn connect(config: ClientConfig) -> Result<Client> {
        config.validate()?;
        let client = Client {
            inner: Arc::new(Inner {
                pool: ConnectionPool::new(config.clone()),
                config,
                metadata: RwLock::new(ClusterMetadata::default()),
                refresh: tokio::sync::Mutex::new(()),
                auto_create_topics: std::sync::atomic::AtomicBool::new(false),
            }),
        };
        client.refresh_metadata(TopicsToRefresh::None).await?;
        tokio::spawn(refresh_periodically(Arc::downgrade(&client.inner)));
        Ok(client)
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Let metadata requests for unknown topics create them, where the broker allows it
    /// (`auto.create.topics.enable`); producers do, as in the Java client. Off by default.
    pub fn set_allow_auto_topic_creation(&self, allow: bool) {
        self.inner
            .auto_create_topics
            .store(allow, std::sync::atomic::Ordering::Relaxed);
    }

    /// A snapshot of the metadata cache.
    pub fn metadata(&self) -> ClusterMetadata {
        self.inner
            .metadata
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Mark metadata stale; the next lookup refreshes it.
    pub fn invalidate_metadata(&self) {
        self.inner
            .metadata
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .invalidate();
    }

    /// Whether the cache is stale (invalidated, or older than `metadata.max.age.ms`).
    pub fn metadata_needs_refresh(&self) -> bool {
        self.inner
            .metadata
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .needs_refresh(Instant::now(), self.inner.config.metadata_max_age)
    }

    /// Fetch metadata now from any reachable broker (bootstrap servers as a last resort).
    pub async fn refresh_metadata(&self, topics: TopicsToRefresh) -> Result<()> {
        let _serial = self.inner.refresh.lock().await;
        let cached: Vec<String> = {
            let m = self
                .inner
                .metadata
                .read()
                .unwrap_or_else(|p| p.into_inner());
            m.topics.keys().cloned().collect()
        };
        let (names, all) = match &topics {
            TopicsToRefresh::All => (None, true),
            TopicsToRefresh::None => (Some(cached), false),
            TopicsToRefresh::Some(t) => {
                let mut names = cached;
                names.extend(t.iter().cloned());
                names.sort();
                names.dedup();
                (Some(names), false)
            }
        };
        let request = MetadataRequest {
            topics: names.map(|n| {
                n.into_iter()
                    .map(|name| MetadataRequestTopic {
                        name: Some(name),
                        ..Default::default()
                    })
                    .collect()
            }),
            allow_auto_topic_creation: self
                .inner
                .auto_create_topics
                .load(std::sync::atomic::Ordering::Relaxed),
            ..Default::default()
        };
        let response = self.send_routed(&request).await?;
        self.inner
            .metadata
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .update(&response, all, Instant::now());
        Ok(())
    }

    /// Metadata that includes `topics`, refreshing if any is missing or the cache is stale.
    pub async fn metadata_for(&self, topics: &[String]) -> Result<ClusterMetadata> {
        self.ensure_metadata(topics).await?;
        Ok(self.metadata())
    }

    /// Read the metadata cache in place (no copy), e.g. on a per-record path.
    pub fn with_metadata<T>(&self, f: impl FnOnce(&ClusterMetadata) -> T) -> T {
        f(&self
            .inner
            .metadata
            .read()
            .unwrap_or_else(|p| p.into_inner()))
    }

    /// Refresh metadata if the cache is stale or lacks one of `topics`.
    pub async fn ensure_metadata(&self, topics: &[String]) -> Result<()> {
        let need = {
            let m = self
                .inner
                .metadata
                .read()
                .unwrap_or_else(|p| p.into_inner());
            m.needs_refresh(Instant::now(), self.inner.config.metadata_max_age)
                || topics.iter().any(|t| !m.topics.contains_key(t))
        };
        if need {
            self.refresh_metadata(TopicsToRefresh::Some(topics.to_vec()))
                .await?;
        }
        Ok(())
    }

    /// The general-purpose connection to broker `node_id`, opening one if needed.
    pub async fn connection(&self, node_id: i32) -> Result<BrokerConnection> {
        self.connection_for(node_id, ConnectionClass::General).await
    }

    /// The connection of `class` to broker `node_id`, opening one if needed.
    pub async fn connection_for(
        &self,
        node_id: i32,
        class: ConnectionClass,
    ) -> Result<BrokerConnection> {
        let addr = {
            let m = self
                .inner
                .metadata
                .read()
                .unwrap_or_else(|p| p.into_inner());
            m.brokers.get(&node_id).map(|b| b.address.clone())
        };
        let Some(addr) = addr else {
            self.invalidate_metadata();
            return Err(ClientError::UnknownBroker { node_id }.into());
        };
        Ok(self.inner.pool.get(node_id, class, &addr).await?)
    }

    /// Send to broker `node_id`.
    pub async fn send_to_node<R: Request>(&self, node_id: i32, request: &R) -> Result<R::Response> {
        let conn = self.connection(node_id).await?;
        let result = conn.send(request).await;
        if let Err(e) = &result {
            if e.is_retriable() {
                self.invalidate_metadata();
            }
        }
        Ok(result?)
    }

    /// Send to any reachable broker: known brokers first, then the bootstrap servers; a broker
    /// that fails with a retriable error is skipped for the next one.
    pub async fn send_to_any<R: Request>(&self, request: &R) -> Result<R::Response> {
        self.on_any_broker(|conn| async move { conn.send(request).await })
            .await
    }

    /// A connection to any reachable broker: one already open if there is one, else the known
    /// brokers, then the bootstrap servers.
    pub async fn any_connection(&self) -> Result<BrokerConnection> {
        self.on_any_broker(|conn| async move { Ok(conn) }).await
    }

    async fn on_any_broker<T, F, Fut>(&self, mut attempt: F) -> Result<T>
    where
        F: FnMut(BrokerConnection) -> Fut,
        Fut: Future<Output = std::result::Result<T, ConnectionError>>,
    {
        let mut candidates: Vec<(Option<i32>, BrokerAddress)> = {
            let m = self
                .inner
                .metadata
                .read()
                .unwrap_or_else(|p| p.into_inner());
            m.brokers
                .values()
                .map(|b| (Some(b.node_id), b.address.clone()))
                .collect()
        };
        // Prefer brokers we already have a live connection to, and spread the rest.
        candidates.sort_by_key(|(id, _)| !id.is_some_and(|id| self.inner.pool.is_connected(id)));
        candidates.extend(
            self.inner
                .config
                .bootstrap_servers
                .iter()
                .map(|a| (None, a.clone())),
        );
        let mut last: Option<ConnectionError> = None;
        let mut tried = Vec::new();
        for (node, addr) in candidates {
            tried.push(addr.to_string());
            let conn = match node {
                Some(id) => {
                    self.inner
                        .pool
                        .get(id, ConnectionClass::General, &addr)
                        .await
                }
                None => self.inner.pool.bootstrap(&addr).await,
            };
            match conn {
                Ok(conn) => match attempt(conn).await {
                    Ok(r) => return Ok(r),
                    Err(e) if e.is_retriable() => last = Some(e),
                    Err(e) => return Err(e.into()),
                },
                Err(e) if e.is_retriable() => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        tried.dedup();
        Err(Error::NoBrokerAvailable {
            tried: tried.join(", "),
            last: Box::new(
                last.map(Error::from)
                    .unwrap_or_else(|| Error::InvalidArgument("no bootstrap servers".into())),
            ),
        })
    }

    /// Send `request` where its API's [`Route`] says — any broker or the controller — so the
    /// call site does not choose. Requests for a partition leader or a coordinator need their
    /// partition or key: send those through [`Client::leader`] or a
    /// [`Coordinator`](coordinator::Coordinator).
    pub async fn send_routed<R: Request>(&self, request: &R) -> Result<R::Response> {
        match route(R::API_KEY) {
            Route::AnyBroker => self.send_to_any(request).await,
            Route::Controller => self.send_to_controller(request).await,
            other => Err(Error::InvalidArgument(format!(
                "{} is routed to the {other:?}: send it through the leader or coordinator it names",
                R::API_KEY.name()
            ))),
        }
    }

    /// Send to the controller (KRaft brokers forward controller requests).
    pub async fn send_to_controller<R: Request>(&self, request: &R) -> Result<R::Response> {
        let controller = self.metadata().controller_id;
        match controller {
            Some(id) => self.send_to_node(id, request).await,
            None => self.send_to_any(request).await,
        }
    }

    /// The leader of `tp`, refreshing metadata while it is unknown, until `default.api.timeout.ms`.
    pub async fn leader(&self, tp: &TopicPartition) -> Result<BrokerMetadata> {
        let topics = [tp.topic.clone()];
        self.retry("find partition leader", || async {
            let m = self.metadata_for(&topics).await?;
            match m.leader(tp) {
                LeaderLookup::Leader(b) => Ok(b),
                LeaderLookup::UnknownTopic | LeaderLookup::UnknownPartition => {
                    self.invalidate_metadata();
                    Err(Error::kafka(
                        "Metadata",
                        tp.to_string(),
                        crate::protocol::ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                        None,
                    ))
                }
                LeaderLookup::NoLeader => {
                    self.invalidate_metadata();
                    Err(Error::kafka(
                        "Metadata",
                        tp.to_string(),
                        crate::protocol::ErrorCode::LEADER_NOT_AVAILABLE,
                        None,
                    ))
                }
            }
        })
        .await
    }

    /// Run `attempt` until it succeeds, fails with a non-retriable error, or
    /// `default.api.timeout.ms` passes, as the [`RetryPolicy`] decides: retriable errors wait
    /// `retry.backoff.ms` doubling up to `retry.backoff.max.ms` with jitter, and refresh metadata
    /// when it is stale.
    pub async fn retry<T, F, Fut>(&self, operation: &'static str, attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.retry_for(operation, self.inner.config.default_api_timeout, attempt)
            .await
    }

    /// [`Client::retry`] with an explicit deadline.
    pub async fn retry_for<T, F, Fut>(
        &self,
        operation: &'static str,
        timeout: Duration,
        mut attempt: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut policy = RetryPolicy::new(operation, timeout, &self.inner.config, Instant::now());
        loop {
            let err = match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            tracing::debug!(operation, error = %err, "attempt failed");
            self.back_off(policy.on_error(err, Instant::now()), None)
                .await?;
        }
    }

    /// Carry out a [`RetryPolicy`] decision: give up with its error, or refresh what it says
    /// is stale (metadata; `coordinator`, when it moved) and sleep its backoff.
    pub async fn back_off(
        &self,
        decision: RetryDecision,
        coordinator: Option<&coordinator::Coordinator>,
    ) -> Result<()> {
        match decision {
            RetryDecision::GiveUp(e) => Err(e),
            RetryDecision::Retry {
                wait,
                refresh_metadata,
                find_coordinator,
            } => {
                if refresh_metadata {
                    self.invalidate_metadata();
                }
                if let (true, Some(c)) = (find_coordinator, coordinator) {
                    c.mark_unknown();
                }
                tokio::time::sleep(wait).await;
                Ok(())
            }
        }
    }
}

async fn refresh_periodically(inner: Weak<Inner>) {
    loop {
        let Some(age) = inner.upgrade().map(|i| i.config.metadata_max_age) else {
            return;
        };
        tokio::time::sleep(age.max(Duration::from_millis(100))).await;
        let Some(inner) = inner.upgrade() else { return };
        let client = Client { inner };
        if let Err(e) = client.refresh_metadata(TopicsToRefresh::None).await {
            tracing::debug!(error = %e, "periodic metadata refresh failed");
        }
    }
}
