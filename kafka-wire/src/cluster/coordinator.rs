//! Finding and talking to a coordinator: the broker that owns a consumer group or a
//! transactional id (FindCoordinator).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::debug;

use crate::error::{Error, Result};
use crate::protocol::messages::find_coordinator_request::FindCoordinatorRequest;
use crate::protocol::{ApiKey, ErrorCode, Request};

use super::retry::RetryPolicy;
use super::{Client, ConnectionClass, TopicsToRefresh};

/// What a coordinator coordinates (FindCoordinator's `key_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoordinatorType {
    /// A consumer group (`group.id`).
    Group = 0,
    /// A transactional producer (`transactional.id`).
    Transaction = 1,
}

/// The coordinator of one group or transactional id: looked up on first use, forgotten when
/// it moves (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or a broken connection) and looked up
/// again on the next request.
#[derive(Debug)]
pub struct Coordinator {
    client: Client,
    key: String,
    kind: CoordinatorType,
    node: Mutex<Option<i32>>,
}

impl Coordinator {
    /// The coordinator of `key`.
    pub fn new(client: Client, kind: CoordinatorType, key: impl Into<String>) -> Self {
        Coordinator {
            client,
            key: key.into(),
            kind,
            node: Mutex::new(None),
        }
    }

    /// The group id or transactional id.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The cluster client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The coordinator's node id if known.
    pub fn known_node(&self) -> Option<i32> {
        *self.node.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forget the coordinator (it moved or its connection broke).
    pub fn mark_unknown(&self) {
        let mut node = self.node.lock().unwrap_or_else(|p| p.into_inner());
        if node.take().is_some() {
            debug!(key = %self.key, "coordinator marked unknown");
        }
    }

    /// The coordinator's node id, looking it up (with retries until `default.api.timeout.ms`)
    /// when unknown.
    pub async fn node(&self) -> Result<i32> {
        if let Some(node) = self.known_node() {
            return Ok(node);
        }
        let config = self.client.config();
        let mut policy = RetryPolicy::new(
            "FindCoordinator",
            config.default_api_timeout,
            config,
            Instant::now(),
        );
        loop {
            let err = match self.lookup().await {
                Ok(node) => {
                    *self.node.lock().unwrap_or_else(|p| p.into_inner()) = Some(node);
                    return Ok(node);
                }
                Err(e) => e,
            };
            debug!(key = %self.key, error = %err, "coordinator lookup failed");
            self.client
                .back_off(policy.on_error(err, Instant::now()), None)
                .await?;
        }
    }

    async fn lookup(&self) -> Result<i32> {
        let conn = self.client.any_connection().await?;
        let version = conn.version_for(ApiKey::FindCoordinator)?;
        let mut request = FindCoordinatorRequest {
            key_type: self.kind as i8,
            ..Default::default()
        };
        if version >= 4 {
            request.coordinator_keys = vec![self.key.clone()];
        } else {
            request.key = self.key.clone();
        }
        let resp = conn.send(&request).await?;
        let (code, message, node) = if version >= 4 {
            let Some(c) = resp.coordinators.into_iter().find(|c| c.key == self.key) else {
                return Err(Error::Protocol {
                    operation: "FindCoordinator",
                    detail: format!("no answer for key {:?}", self.key),
                });
            };
            (c.error_code, c.error_message, c.node_id)
        } else {
            (resp.error_code, resp.error_message, resp.node_id)
        };
        let code = ErrorCode(code);
        if !code.is_ok() {
            return Err(Error::kafka(
                "FindCoordinator",
                self.key.clone(),
                code,
                message,
            ));
        }
        // The coordinator is a broker; make sure its address is known.
        if !self.client.with_metadata(|m| m.brokers.contains_key(&node)) {
            self.client.refresh_metadata(TopicsToRefresh::None).await?;
        }
        debug!(key = %self.key, node, "found coordinator");
        Ok(node)
    }

    /// Send `request` to the coordinator, looking it up first if needed; a connection failure
    /// forgets it. Error codes in the response are the caller's to interpret (they differ per
    /// API), but [`Coordinator::check`] handles the coordinator-moved ones.
    pub async fn send<R: Request + Clone>(&self, request: &R) -> Result<R::Response> {
        self.send_built(i16::MAX, None, |_| request.clone()).await
    }

    /// Send a request built for the version the coordinator speaks, capped at `max_version`
    /// (for APIs whose newest versions need data this client does not send, such as topic ids).
    pub async fn send_versioned<R: Request>(
        &self,
        max_version: i16,
        build: impl FnOnce(i16) -> R,
    ) -> Result<R::Response> {
        self.send_built(max_version, None, build).await
    }

    /// Like [`Coordinator::send_versioned`], waiting at most `timeout` (instead of
    /// `request.timeout.ms`) when given: JoinGroup legitimately blocks for a whole rebalance.
    pub async fn send_built<R: Request>(
        &self,
        max_version: i16,
        timeout: Option<Duration>,
        build: impl FnOnce(i16) -> R,
    ) -> Result<R::Response> {
        let node = self.node().await?;
        let result = async {
            let class = ConnectionClass::for_coordinator(R::API_KEY);
            let conn = self.client.connection_for(node, class).await?;
            let version = conn.version_for(R::API_KEY)?.min(max_version);
            let request = build(version);
            Ok::<_, Error>(match timeout {
                Some(t) => conn.send_with_timeout_at(&request, version, t).await?,
                None => conn.send_at(&request, version).await?,
            })
        }
        .await;
        if let Err(e) = &result {
            if super::retry::coordinator_lost(e) || e.is_retriable() {
                self.mark_unknown();
            }
        }
        result
    }

    /// The version the coordinator speaks for `api` (looking it up first if needed).
    pub async fn version_for(&self, api: ApiKey) -> Result<i16> {
        let node = self.node().await?;
        let conn = self
            .client
            .connection_for(node, ConnectionClass::for_coordinator(api))
            .await?;
        Ok(conn.version_for(api)?)
    }

    /// Forget the coordinator if `code` says it moved; returns whether it did.
    pub fn check(&self, code: ErrorCode) -> bool {
        let moved = matches!(
            code,
            ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE
        );
        if moved {
            self.mark_unknown();
        }
        moved
    }
}
