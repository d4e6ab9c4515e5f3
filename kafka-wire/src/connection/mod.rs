//! Layer 1: one connection to one broker.
//!
//! [`BrokerConnection`] opens a TCP connection (wrapped in TLS for `SSL`/`SASL_SSL`, see
//! [`tls`]), negotiates API versions with ApiVersions, authenticates with SASL when configured, and
//! then carries typed requests ([`BrokerConnection::send`]) at the negotiated version over a
//! multiplexed [`Messenger`]. Set-up (ApiVersions, and the raw-token SASL exchange of brokers
//! before Kafka 1.0) runs one exchange at a time on the bare stream (`prelude.rs`) before the
//! messenger takes it over. It knows nothing about topics, leaders or retries: that is the
//! cluster layer's job.

mod authenticate;
mod messenger;
mod prelude;
pub mod tls;
mod versions;

pub use authenticate::reauthentications;
pub use messenger::{Messenger, MessengerOptions, PendingResponse};
pub use versions::ApiVersions;

use prelude::Prelude;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::config::{BrokerAddress, ClientConfig};
use crate::error::ConnectionError;
use crate::protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use crate::protocol::wire::{Decode, ReadBuf};
use crate::protocol::{frame, ApiKey, ErrorCode, Request, Response};

/// Software name and version sent in ApiVersions (KIP-511).
pub const CLIENT_SOFTWARE_NAME: &str = "kafka-wire";
/// See [`CLIENT_SOFTWARE_NAME`].
pub const CLIENT_SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A byte stream to a broker: TCP, TLS over TCP, or an in-memory pipe in tests.
pub(crate) trait BrokerStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<S: AsyncRead + AsyncWrite + Send + Unpin + 'static> BrokerStream for S {}

/// A negotiated connection to one broker.
#[derive(Clone, Debug)]
pub struct BrokerConnection {
    messenger: Messenger,
    versions: Arc<ApiVersions>,
    client_id: Option<String>,
}

impl BrokerConnection {
    /// Connect over TCP and negotiate API versions.
    pub async fn connect(
        addr: &BrokerAddress,
        config: &ClientConfig,
    ) -> Result<Self, ConnectionError> {
        let stream = tokio::time::timeout(
            config.connection_setup_timeout,
            TcpStream::connect((addr.host.as_str(), addr.port)),
        )
        .await
        .map_err(|_| ConnectionError::ConnectTimeout {
            addr: addr.clone(),
            after: config.connection_setup_timeout,
        })?
        .map_err(|e| ConnectionError::Connect {
            addr: addr.clone(),
            source: Arc::new(e),
        })?;
        let _ = stream.set_nodelay(true);
        let security = &config.security;
        if security.protocol.uses_tls() {
            let tls_config = tls::client_config(security, addr)?;
            let stream = tokio::time::timeout(
                config.connection_setup_timeout,
                tls::connect(stream, addr, tls_config, security.ssl_verify_hostname),
            )
            .await
            .map_err(|_| ConnectionError::ConnectTimeout {
                addr: addr.clone(),
                after: config.connection_setup_timeout,
            })??;
            Self::establish(Box::new(stream), addr, config).await
        } else {
            Self::establish(Box::new(stream), addr, config).await
        }
    }

    /// ApiVersions, then SASL when configured, over an open (possibly TLS) stream. The stream
    /// is boxed so that set-up, authentication and the messenger are compiled once, not once
    /// per stream type.
    async fn establish(
        stream: Box<dyn BrokerStream>,
        addr: &BrokerAddress,
        config: &ClientConfig,
    ) -> Result<Self, ConnectionError> {
        let security = &config.security;
        let mut prelude = Prelude::new(stream, addr.clone(), options(config));
        let versions = negotiate(&mut prelude).await?;
        // Brokers before 1.0 have no SaslAuthenticate: the exchange runs in raw frames, before
        // multiplexing starts, and such sessions never expire (no KIP-368).
        let legacy_sasl =
            security.protocol.uses_sasl() && versions.version(ApiKey::SaslAuthenticate).is_none();
        if legacy_sasl {
            authenticate::authenticate_raw(&mut prelude, &versions, security).await?;
        }
        let conn = Self::from_prelude(prelude, versions);
        if security.protocol.uses_sasl() && !legacy_sasl {
            match authenticate::authenticate(&conn, security, None).await {
                Ok(Some(deadline)) => {
                    tokio::spawn(authenticate::reauthenticate_before(
                        conn.clone(),
                        security.clone(),
                        deadline,
                    ));
                }
                Ok(None) => {}
                Err(e) => {
                    conn.close();
                    return Err(e);
                }
            }
        }
        Ok(conn)
    }

    /// Negotiate over an already-open stream (TLS, a proxy, or an in-memory pipe in tests);
    /// no SASL.
    pub async fn handshake<S>(
        stream: S,
        addr: BrokerAddress,
        options: MessengerOptions,
    ) -> Result<Self, ConnectionError>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let mut prelude = Prelude::new(stream, addr, options);
        let versions = negotiate(&mut prelude).await?;
        Ok(Self::from_prelude(prelude, versions))
    }

    fn from_prelude<S>(prelude: Prelude<S>, versions: ApiVersions) -> Self
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let client_id = prelude.client_id().map(str::to_owned);
        let messenger = prelude.into_messenger();
        tracing::debug!(broker = %messenger.addr(), apis = versions.chosen.len(), "connected");
        BrokerConnection {
            messenger,
            versions: Arc::new(versions),
            client_id,
        }
    }

    /// The broker's address.
    pub fn addr(&self) -> &BrokerAddress {
        self.messenger.addr()
    }

    /// The negotiated API versions.
    pub fn api_versions(&self) -> &ApiVersions {
        &self.versions
    }

    /// Whether the connection has been closed (and must be replaced).
    pub fn is_closed(&self) -> bool {
        self.messenger.closed_error().is_some()
    }

    /// Close the connection; requests in flight fail.
    pub fn close(&self) {
        self.messenger.close("closed by the client");
    }

    /// The version `api` will be sent at, or an error naming the API.
    pub fn version_for(&self, api: ApiKey) -> Result<i16, ConnectionError> {
        self.versions
            .version(api)
            .ok_or_else(|| ConnectionError::UnsupportedApi {
                addr: self.addr().clone(),
                api,
                ours: api.supported_versions(),
                theirs: self.versions.describe_broker(api),
            })
    }

    /// Send `request` at the negotiated version and wait for the response.
    pub async fn send<R: Request>(&self, request: &R) -> Result<R::Response, ConnectionError> {
        let version = self.version_for(R::API_KEY)?;
        self.send_at(request, version).await
    }

    /// Send `request` at a chosen version (must be one the broker supports).
    pub async fn send_at<R: Request>(
        &self,
        request: &R,
        version: i16,
    ) -> Result<R::Response, ConnectionError> {
        self.start(request, version).await?.await
    }

    /// Send `request` at the negotiated version and wait at most `timeout` for the response
    /// (instead of `request.timeout.ms`); for requests the broker holds on purpose, such as
    /// JoinGroup during a rebalance.
    pub async fn send_with_timeout<R: Request>(
        &self,
        request: &R,
        timeout: std::time::Duration,
    ) -> Result<R::Response, ConnectionError> {
        let version = self.version_for(R::API_KEY)?;
        self.send_with_timeout_at(request, version, timeout).await
    }

    /// [`BrokerConnection::send_with_timeout`] at a chosen version.
    pub async fn send_with_timeout_at<R: Request>(
        &self,
        request: &R,
        version: i16,
        timeout: std::time::Duration,
    ) -> Result<R::Response, ConnectionError> {
        let addr = self.addr().clone();
        let client_id = self.client_id.as_deref();
        let frame = self
            .messenger
            .enqueue(
                R::API_KEY,
                encoder(addr.clone(), request, version, client_id),
            )
            .await?
            .with_timeout(timeout)
            .wait()
            .await?;
        decode::<R>(&self.messenger, addr, frame, version)
    }

    /// Send `request` while holding [`Messenger::exclusive`]'s guard (re-authentication).
    pub(crate) async fn send_exclusive<R: Request>(
        &self,
        guard: &tokio::sync::OwnedRwLockWriteGuard<()>,
        request: &R,
    ) -> Result<R::Response, ConnectionError> {
        let version = self.version_for(R::API_KEY)?;
        let addr = self.addr().clone();
        let client_id = self.client_id.as_deref();
        let frame = self
            .messenger
            .enqueue_exclusive(
                guard,
                R::API_KEY,
                encoder(addr.clone(), request, version, client_id),
            )
            .await?
            .wait()
            .await?;
        decode::<R>(&self.messenger, addr, frame, version)
    }

    /// Put `request` on the wire now and return a future of its response. Requests started
    /// one after another go out in that order, even if their responses are awaited elsewhere.
    pub async fn start<R: Request>(
        &self,
        request: &R,
        version: i16,
    ) -> Result<
        impl std::future::Future<Output = Result<R::Response, ConnectionError>> + Send + 'static,
        ConnectionError,
    > {
        let addr = self.addr().clone();
        let client_id = self.client_id.as_deref();
        let pending = self
            .messenger
            .enqueue(
                R::API_KEY,
                encoder(addr.clone(), request, version, client_id),
            )
            .await?;
        let messenger = self.messenger.clone();
        Ok(async move {
            let frame = pending.wait().await?;
            decode::<R>(&messenger, addr, frame, version)
        })
    }

    /// Send `request` at `version` without waiting for a response (only for requests the broker
    /// does not answer: Produce with `acks=0`).
    pub async fn send_no_response<R: Request>(
        &self,
        request: &R,
        version: i16,
    ) -> Result<(), ConnectionError> {
        let addr = self.addr().clone();
        let client_id = self.client_id.as_deref();
        self.messenger
            .send_oneway(encoder(addr.clone(), request, version, client_id))
            .await
    }
}

/// Decode a response frame and honour its throttle time (KIP-219).
fn decode<R: Request>(
    messenger: &Messenger,
    addr: BrokerAddress,
    frame: Bytes,
    version: i16,
) -> Result<R::Response, ConnectionError> {
    let response =
        frame::decode_response::<R>(frame, version).map_err(|source| ConnectionError::Decode {
            addr,
            api: R::API_KEY,
            version,
            source,
        })?;
    if let Some(ms) = response.throttle_time_ms() {
        messenger.throttle(ms);
    }
    Ok(response)
}

/// The frame encoder a messenger calls with the correlation id it picked.
fn encoder<'a, R: Request>(
    addr: BrokerAddress,
    request: &'a R,
    version: i16,
    client_id: Option<&'a str>,
) -> impl FnOnce(i32) -> Result<bytes::BytesMut, ConnectionError> + 'a {
    move |id| {
        frame::encode_request(request, version, id, client_id).map_err(|source| {
            ConnectionError::Encode {
                addr,
                api: R::API_KEY,
                version,
                source,
            }
        })
    }
}

/// Messenger options from a client configuration.
pub fn options(config: &ClientConfig) -> MessengerOptions {
    MessengerOptions {
        client_id: Some(config.client_id.clone()),
        request_timeout: config.request_timeout,
        max_response_size: config.receive_message_max_bytes,
        idle_timeout: config.connections_max_idle,
    }
}

/// ApiVersions handshake: ask at our highest version; a broker that does not speak it answers
/// UNSUPPORTED_VERSION in the v0 layout with its own range, and we ask again within it.
async fn negotiate<S>(prelude: &mut Prelude<S>) -> Result<ApiVersions, ConnectionError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (_, mut version) = ApiKey::ApiVersions.supported_versions();
    let request = ApiVersionsRequest {
        client_software_name: CLIENT_SOFTWARE_NAME.into(),
        client_software_version: CLIENT_SOFTWARE_VERSION.into(),
        ..Default::default()
    };
    for _ in 0..2 {
        let frame = prelude.round_trip(&request, version).await?;
        let response = decode_api_versions(&frame, version)
            .or_else(|_| decode_api_versions(&frame, 0))
            .map_err(|source| ConnectionError::Decode {
                addr: prelude.addr().clone(),
                api: ApiKey::ApiVersions,
                version,
                source,
            })?;
        let code = ErrorCode(response.error_code);
        if code == ErrorCode::UNSUPPORTED_VERSION {
            let theirs = response
                .api_keys
                .iter()
                .find(|k| k.api_key == ApiKey::ApiVersions as i16)
                .map(|k| k.max_version)
                .unwrap_or(0);
            if theirs >= version {
                break;
            }
            version = theirs;
            continue;
        }
        if !code.is_ok() {
            return Err(ConnectionError::Handshake {
                addr: prelude.addr().clone(),
                code,
            });
        }
        if let Some(ms) = response.throttle_time_ms() {
            prelude.throttle(ms);
        }
        return Ok(ApiVersions::negotiate(&response));
    }
    Err(ConnectionError::Handshake {
        addr: prelude.addr().clone(),
        code: ErrorCode::UNSUPPORTED_VERSION,
    })
}

fn decode_api_versions(
    frame: &Bytes,
    version: i16,
) -> Result<ApiVersionsResponse, crate::protocol::DecodeError> {
    let mut buf = ReadBuf::new(frame.clone());
    // ApiVersions responses always use header v0: just the correlation id.
    buf.i32("ResponseHeader.CorrelationId")?;
    ApiVersionsResponse::decode(&mut buf, version)
}

/// How long until the next reconnect attempt after `failures` consecutive failures: exponential
/// from `reconnect.backoff.ms` to `reconnect.backoff.max.ms`, with ±20 % jitter as in Java.
pub fn reconnect_backoff(config: &ClientConfig, failures: u32) -> Duration {
    let base = config.reconnect_backoff.as_millis() as f64;
    let max = config.reconnect_backoff_max.as_millis() as f64;
    let exp = base * 2f64.powi(failures.saturating_sub(1).min(30) as i32);
    let jitter = 1.0 + (rand::random::<f64>() * 0.4 - 0.2);
    Duration::from_millis((exp.min(max) * jitter).max(0.0) as u64)
}

#[cfg(test)]
mod tests;
