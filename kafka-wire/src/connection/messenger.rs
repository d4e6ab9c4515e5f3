//! One multiplexed connection to a broker: correlation ids, pipelined requests, a reader task
//! and a writer task, and poisoning.
//!
//! Requests register a one-shot slot under a fresh correlation id, then queue their encoded
//! frame for the writer task; the reader task hands each response frame to the slot with its
//! correlation id. When the connection breaks (EOF, I/O error, an impossible or oversized frame,
//! a request timeout, idleness), it is *poisoned*: every waiting request fails at once with the
//! same error, and later requests fail immediately. A poisoned connection is never reused; the
//! cluster layer opens a new one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::BrokerAddress;
use crate::error::ConnectionError;
use crate::protocol::{frame, ApiKey};

type Slot = oneshot::Sender<Result<Bytes, ConnectionError>>;

enum State {
    Open(HashMap<i32, Slot>),
    Poisoned(ConnectionError),
}

/// Limits and timeouts of one connection.
#[derive(Debug, Clone)]
pub struct MessengerOptions {
    /// `client.id` sent in every request header.
    pub client_id: Option<String>,
    /// Per-request timeout (`request.timeout.ms`).
    pub request_timeout: Duration,
    /// Largest response frame accepted (`receive.message.max.bytes`).
    pub max_response_size: usize,
    /// Close the connection after this long without requests in flight
    /// (`connections.max.idle.ms`).
    pub idle_timeout: Duration,
}

pub(crate) struct Shared {
    addr: BrokerAddress,
    state: Mutex<State>,
    next_correlation_id: AtomicI32,
    last_activity: Mutex<Instant>,
    throttled_until: Mutex<Option<Instant>>,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the map inconsistent; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn touch(&self) {
        *self.last_activity.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// Fail every waiting request with `err` and refuse new ones.
    pub(crate) fn poison(&self, err: ConnectionError) {
        let old = {
            let mut state = self.lock_state();
            if matches!(*state, State::Poisoned(_)) {
                return;
            }
            std::mem::replace(&mut *state, State::Poisoned(err.clone()))
        };
        tracing::debug!(broker = %self.addr, error = %err, "connection closed");
        if let State::Open(pending) = old {
            for (_, slot) in pending {
                let _ = slot.send(Err(err.clone()));
            }
        }
        let _ = self.shutdown.send(true);
    }

    fn poisoned(&self) -> Option<ConnectionError> {
        match &*self.lock_state() {
            State::Poisoned(e) => Some(e.clone()),
            State::Open(_) => None,
        }
    }

    fn register(&self, id: i32, slot: Slot) -> Result<(), ConnectionError> {
        match &mut *self.lock_state() {
            State::Open(pending) => {
                pending.insert(id, slot);
                Ok(())
            }
            State::Poisoned(e) => Err(e.clone()),
        }
    }

    fn unregister(&self, id: i32) {
        if let State::Open(pending) = &mut *self.lock_state() {
            pending.remove(&id);
        }
    }

    fn in_flight(&self) -> usize {
        match &*self.lock_state() {
            State::Open(p) => p.len(),
            State::Poisoned(_) => 0,
        }
    }

    fn complete(&self, id: i32, frame: Bytes) {
        let slot = match &mut *self.lock_state() {
            State::Open(pending) => pending.remove(&id),
            State::Poisoned(_) => None,
        };
        match slot {
            Some(slot) => {
                let _ = slot.send(Ok(frame));
            }
            None => tracing::warn!(broker = %self.addr, correlation_id = id,
                "response for an unknown correlation id (request cancelled?); ignored"),
        }
    }
}

/// Removes a request's slot if the caller stops waiting (future dropped).
struct PendingGuard {
    shared: Arc<Shared>,
    id: i32,
    armed: bool,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if self.armed {
            self.shared.unregister(self.id);
        }
    }
}

/// Tells the background tasks to stop when the last handle goes away.
struct ShutdownOnDrop(Arc<Shared>);

impl Drop for ShutdownOnDrop {
    fn drop(&mut self) {
        self.0.poison(ConnectionError::Closed {
            addr: self.0.addr.clone(),
            reason: "closed by the client".into(),
        });
    }
}

/// A multiplexed connection. Cheap to clone; all clones share the socket.
#[derive(Clone)]
pub struct Messenger {
    shared: Arc<Shared>,
    /// Normal requests hold it shared while they are put on the wire; re-authentication
    /// (KIP-368) holds it exclusively, with nothing in flight, so no request sits between or
    /// around the SASL exchange.
    gate: Arc<tokio::sync::RwLock<()>>,
    outbox: mpsc::Sender<BytesMut>,
    options: Arc<MessengerOptions>,
    _shutdown: Arc<ShutdownOnDrop>,
}

impl std::fmt::Debug for Messenger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messenger")
            .field("broker", &self.shared.addr)
            .field("in_flight", &self.shared.in_flight())
            .finish()
    }
}

impl Messenger {
    /// Start the reader and writer tasks over `stream` (must run inside a tokio runtime).
    pub fn start<S>(stream: S, addr: BrokerAddress, options: MessengerOptions) -> Self
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            addr,
            state: Mutex::new(State::Open(HashMap::new())),
            next_correlation_id: AtomicI32::new(1),
            last_activity: Mutex::new(Instant::now()),
            throttled_until: Mutex::new(None),
            shutdown,
        });
        let (read, write) = tokio::io::split(stream);
        let (outbox, inbox) = mpsc::channel(256);
        tokio::spawn(write_loop(
            write,
            inbox,
            shared.clone(),
            shutdown_rx.clone(),
        ));
        tokio::spawn(read_loop(
            read,
            shared.clone(),
            options.max_response_size,
            shutdown_rx.clone(),
        ));
        tokio::spawn(idle_watch(
            Arc::downgrade(&shared),
            options.idle_timeout,
            shutdown_rx,
        ));
        Messenger {
            _shutdown: Arc::new(ShutdownOnDrop(shared.clone())),
            gate: Arc::new(tokio::sync::RwLock::new(())),
            shared,
            outbox,
            options: Arc::new(options),
        }
    }

    /// The broker this connection goes to.
    pub fn addr(&self) -> &BrokerAddress {
        &self.shared.addr
    }

    /// The error that closed this connection, if it is closed.
    pub fn closed_error(&self) -> Option<ConnectionError> {
        self.shared.poisoned()
    }

    /// Close the connection; requests in flight fail.
    pub fn close(&self, reason: &str) {
        self.shared.poison(ConnectionError::Closed {
            addr: self.shared.addr.clone(),
            reason: reason.to_owned(),
        });
    }

    /// Respect a broker's quota throttle (KIP-219): hold requests until `ms` have passed.
    pub fn throttle(&self, ms: i32) {
        if ms > 0 {
            let until = Instant::now() + Duration::from_millis(ms as u64);
            let mut t = self
                .shared
                .throttled_until
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if t.is_none_or(|cur| cur < until) {
                *t = Some(until);
            }
        }
    }

    async fn wait_throttle(&self) {
        let until = *self
            .shared
            .throttled_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(until) = until {
            if until > Instant::now() {
                tracing::debug!(broker = %self.shared.addr, "throttled by the broker; waiting");
                tokio::time::sleep_until(until.into()).await;
            }
        }
    }

    /// Send a request the broker does not answer (Produce with `acks=0`): queue the frame and
    /// return once it is handed to the writer.
    pub async fn send_oneway(
        &self,
        encode: impl FnOnce(i32) -> Result<BytesMut, ConnectionError>,
    ) -> Result<(), ConnectionError> {
        self.wait_throttle().await;
        if let Some(e) = self.shared.poisoned() {
            return Err(e);
        }
        let id = self
            .shared
            .next_correlation_id
            .fetch_add(1, Ordering::Relaxed)
            & i32::MAX;
        let frame = encode(id)?;
        self.shared.touch();
        self.outbox.send(frame).await.map_err(|_| {
            self.shared.poisoned().unwrap_or(ConnectionError::Closed {
                addr: self.shared.addr.clone(),
                reason: "writer stopped".into(),
            })
        })
    }

    /// Queue a request for the writer and return a handle to await its response. Requests
    /// enqueued one after another by the same caller go on the wire in that order (Produce
    /// batches of an idempotent producer rely on it).
    pub async fn enqueue(
        &self,
        api: ApiKey,
        encode: impl FnOnce(i32) -> Result<BytesMut, ConnectionError>,
    ) -> Result<PendingResponse, ConnectionError> {
        let _shared = self.gate.read().await;
        self.enqueue_ungated(api, encode).await
    }

    /// Wait until this caller alone may use the connection: new requests wait, and every
    /// request already in flight has been answered (at most `request.timeout.ms`). Requests
    /// made with [`Messenger::enqueue_exclusive`] while the guard lives go out alone.
    pub async fn exclusive(
        &self,
    ) -> Result<tokio::sync::OwnedRwLockWriteGuard<()>, ConnectionError> {
        let guard = self.gate.clone().write_owned().await;
        let deadline = Instant::now() + self.options.request_timeout;
        while self.shared.in_flight() > 0 {
            if let Some(e) = self.shared.poisoned() {
                return Err(e);
            }
            if Instant::now() >= deadline {
                return Err(ConnectionError::Closed {
                    addr: self.shared.addr.clone(),
                    reason: "requests still in flight when re-authentication was due".into(),
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        Ok(guard)
    }

    /// [`Messenger::enqueue`] for the holder of [`Messenger::exclusive`]'s guard.
    pub async fn enqueue_exclusive(
        &self,
        _guard: &tokio::sync::OwnedRwLockWriteGuard<()>,
        api: ApiKey,
        encode: impl FnOnce(i32) -> Result<BytesMut, ConnectionError>,
    ) -> Result<PendingResponse, ConnectionError> {
        self.enqueue_ungated(api, encode).await
    }

    async fn enqueue_ungated(
        &self,
        api: ApiKey,
        encode: impl FnOnce(i32) -> Result<BytesMut, ConnectionError>,
    ) -> Result<PendingResponse, ConnectionError> {
        self.wait_throttle().await;
        let id = self
            .shared
            .next_correlation_id
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(if v == i32::MAX { 1 } else { v + 1 })
            })
            .unwrap_or(1);
        let frame = encode(id)?;
        let (tx, rx) = oneshot::channel();
        self.shared.register(id, tx)?;
        let guard = PendingGuard {
            shared: self.shared.clone(),
            id,
            armed: true,
        };
        self.shared.touch();
        if self.outbox.send(frame).await.is_err() {
            return Err(self.shared.poisoned().unwrap_or(ConnectionError::Closed {
                addr: self.shared.addr.clone(),
                reason: "writer stopped".into(),
            }));
        }
        Ok(PendingResponse {
            guard,
            rx,
            api,
            timeout: self.options.request_timeout,
        })
    }
}

/// A request on the wire; [`PendingResponse::wait`] gives its response frame.
pub struct PendingResponse {
    guard: PendingGuard,
    rx: oneshot::Receiver<Result<Bytes, ConnectionError>>,
    api: ApiKey,
    timeout: std::time::Duration,
}

impl PendingResponse {
    /// Wait at most `timeout` instead of `request.timeout.ms` (JoinGroup may legitimately
    /// block for the whole rebalance timeout).
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Wait for the response frame (size prefix removed), at most `request.timeout.ms`; a
    /// timeout closes the connection, as in the Java client.
    pub async fn wait(mut self) -> Result<Bytes, ConnectionError> {
        let shared = self.guard.shared.clone();
        let result = match tokio::time::timeout(self.timeout, &mut self.rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(shared.poisoned().unwrap_or(ConnectionError::Closed {
                addr: shared.addr.clone(),
                reason: "response slot dropped".into(),
            })),
            Err(_) => {
                let err = ConnectionError::RequestTimeout {
                    addr: shared.addr.clone(),
                    api: self.api,
                    after: self.timeout,
                };
                shared.poison(err.clone());
                Err(err)
            }
        };
        self.guard.armed = false;
        shared.touch();
        result
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(
    write: W,
    mut inbox: mpsc::Receiver<BytesMut>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut write = BufWriter::with_capacity(64 * 1024, write);
    loop {
        let frame = tokio::select! {
            f = inbox.recv() => match f { Some(f) => f, None => break },
            _ = shutdown.wait_for(|s| *s) => break,
        };
        let mut result = write.write_all(&frame).await;
        // Pipeline: write whatever else is queued before flushing once.
        while result.is_ok() {
            match inbox.try_recv() {
                Ok(f) => result = write.write_all(&f).await,
                Err(_) => break,
            }
        }
        if result.is_ok() {
            result = write.flush().await;
        }
        if let Err(e) = result {
            shared.poison(ConnectionError::Io {
                addr: shared.addr.clone(),
                source: Arc::new(e),
            });
            break;
        }
    }
    let _ = write.shutdown().await;
}

async fn read_frame<R: AsyncRead + Unpin>(
    read: &mut R,
    addr: &BrokerAddress,
    max: usize,
) -> Result<Bytes, ConnectionError> {
    // Every response starts with a 4-byte correlation id.
    super::prelude::read_sized(read, addr, 4, max).await
}

async fn read_loop<R: AsyncRead + Unpin>(
    mut read: R,
    shared: Arc<Shared>,
    max: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let frame = tokio::select! {
            f = read_frame(&mut read, &shared.addr, max) => f,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        match frame {
            Ok(frame) => match frame::peek_correlation_id(&frame) {
                Ok(id) => shared.complete(id, frame),
                Err(_) => unreachable_frame(&shared),
            },
            Err(e) => {
                shared.poison(e);
                return;
            }
        }
    }
}

fn unreachable_frame(shared: &Shared) {
    // read_frame guarantees at least 4 bytes, so this cannot happen; poison to be safe.
    shared.poison(ConnectionError::Closed {
        addr: shared.addr.clone(),
        reason: "response frame without a correlation id".into(),
    });
}

async fn idle_watch(
    shared: std::sync::Weak<Shared>,
    idle: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let tick = (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let last = *shared
            .last_activity
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if shared.in_flight() == 0 && last.elapsed() >= idle {
            shared.poison(ConnectionError::Closed {
                addr: shared.addr.clone(),
                reason: format!("idle for {idle:?} (connections.max.idle.ms)"),
            });
            return;
        }
    }
}
