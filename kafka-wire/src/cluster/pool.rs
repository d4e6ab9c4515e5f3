//! One connection per broker, reopened with exponential backoff and jitter when it dies.

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

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Node(i32),
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
            .get(&Key::Node(node_id))
            .cloned();
        slot.and_then(|s| {
            s.try_lock()
                .ok()
                .map(|s| s.conn.as_ref().is_some_and(|c| !c.is_closed()))
        })
        .unwrap_or(false)
    }

    /// The connection to a broker from metadata.
    pub(super) async fn get(
        &self,
        node_id: i32,
        addr: &BrokerAddress,
    ) -> Result<BrokerConnection, ConnectionError> {
        self.get_key(Key::Node(node_id), addr).await
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
