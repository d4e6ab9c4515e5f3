//! Connections per broker — one per [`ConnectionClass`] — reopened with exponential backoff and
//! jitter when they die.
//!
//! A broker answers the requests of one connection strictly in order and reads no further
//! request while one is parked, so traffic that may park (a JoinGroup held for the whole
//! rebalance, a Fetch long-poll held for `fetch.max.wait.ms`) gets connections of its own, as in
//! the Java client (which gives the group coordinator its own connection) and franz-go (which
//! splits produce, fetch, group and slow requests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::config::{BrokerAddress, ClientConfig};
use crate::connection::{reconnect_backoff, BrokerConnection};
use crate::error::ConnectionError;

#[derive(Default)]
struct Slot {
    conn: Option<BrokerConnection>,
    addr: Option<BrokerAddress>,
    failures: u32,
    next_attempt: Option<Instant>,
}

/// Connections keyed by node id (bootstrap connections by address, with negative keys).
pub(super) struct ConnectionPool {
    config: ClientConfig,
    slots: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Slot>>>>,
}

/// Which of a broker's connections a request travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionClass {
    /// Metadata, produce, admin and everything else that is answered promptly.
    General,
    /// Fetch: long-polls parked up to `fetch.max.wait.ms`.
    Fetch,
    /// Group and transaction coordinator requests that are answered promptly: heartbeats,
    /// offset commits and fetches, LeaveGroup, AddPartitionsToTxn, EndTxn, ….
    Coordinator,
    /// JoinGroup and SyncGroup, which the coordinator parks until the rebalance completes.
    Rebalance,
}

impl ConnectionClass {
    /// The connection a coordinator request for `api` uses.
    pub fn for_coordinator(api: crate::protocol::ApiKey) -> Self {
        use crate::protocol::ApiKey;
        match api {
            ApiKey::JoinGroup | ApiKey::SyncGroup => ConnectionClass::Rebalance,
            _ => ConnectionClass::Coordinator,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Node(i32, ConnectionClass),
    Bootstrap(BrokerAddress),
}

impl ConnectionPool {
    pub(super) fn new(config: ClientConfig) -> Self {
        ConnectionPool {
            config,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, key: Key) -> Arc<tokio::sync::Mutex<Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default()
            .clone()
    }

    /// Whether a live connection to `node_id` exists right now.
    pub(super) fn is_connected(&self, node_id: i32) -> bool {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&Key::Node(node_id, ConnectionClass::General))
            .cloned();
        slot.and_then(|s| {
            s.try_lock()
                .ok()
                .map(|s| s.conn.as_ref().is_some_and(|c| !c.is_closed()))
        })
        .unwrap_or(false)
    }

    /// The connection of `class` to a broker from metadata.
    pub(super) async fn get(
        &self,
        node_id: i32,
        class: ConnectionClass,
        addr: &BrokerAddress,
    ) -> Result<BrokerConnection, ConnectionError> {
        self.get_key(Key::Node(node_id, class), addr).await
    }

    /// A connection to a bootstrap address.
    pub(super) async fn bootstrap(
        &self,
        addr: &BrokerAddress,
    ) -> Result<BrokerConnection, ConnectionError> {
        self.get_key(Key::Bootstrap(addr.clone()), addr).await
    }

    async fn get_key(
        &self,
        key: Key,
        addr: &BrokerAddress,
    ) -> Result<BrokerConnection, ConnectionError> {
        let slot = self.slot(key);
        // Callers for the same broker wait for one connect attempt instead of racing.
        let mut slot = slot.lock().await;
        if slot.addr.as_ref().is_some_and(|a| a != addr) {
            // The node moved: drop the old connection.
            if let Some(c) = slot.conn.take() {
                c.close();
            }
        }
        slot.addr = Some(addr.clone());
        if let Some(conn) = &slot.conn {
            if !conn.is_closed() {
                return Ok(conn.clone());
            }
            slot.conn = None;
        }
        if let Some(at) = slot.next_attempt {
            if at > Instant::now() {
                tokio::time::sleep_until(at.into()).await;
            }
        }
        match BrokerConnection::connect(addr, &self.config).await {
            Ok(conn) => {
                slot.failures = 0;
                slot.next_attempt = None;
                slot.conn = Some(conn.clone());
                Ok(conn)
            }
            Err(e) => {
                slot.failures += 1;
                let wait = reconnect_backoff(&self.config, slot.failures);
                slot.next_attempt = Some(Instant::now() + wait);
                tracing::debug!(broker = %addr, error = %e, ?wait, "connect failed");
                Err(e)
            }
        }
    }
}
