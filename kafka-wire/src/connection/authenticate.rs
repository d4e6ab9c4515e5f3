//! SASL authentication of a connection (`security.protocol=SASL_PLAINTEXT|SASL_SSL`):
//! SaslHandshake names the mechanism, then SaslAuthenticate requests carry the mechanism's
//! messages (from [`crate::sasl`]) until it is done. The broker's answer may carry a session
//! lifetime (KIP-368): the connection must re-authenticate before it ends. Brokers before 1.0
//! have no SaslAuthenticate; with them the messages travel as raw frames right after a
//! SaslHandshake v0, before the connection is multiplexed ([`authenticate_raw`]).

use std::time::Instant;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::OwnedRwLockWriteGuard;

use crate::config::{BrokerAddress, SecurityConfig};
use crate::error::ConnectionError;
use crate::protocol::messages::sasl_authenticate_request::SaslAuthenticateRequest;
use crate::protocol::messages::sasl_handshake_request::SaslHandshakeRequest;
use crate::protocol::messages::SaslHandshakeResponse;
use crate::protocol::{frame, ApiKey, ErrorCode};
use crate::sasl::{Credentials, Mechanism, SaslSession, Step};

use super::prelude::Prelude;
use super::{ApiVersions, BrokerConnection};

fn auth_error(
    addr: &BrokerAddress,
    mechanism: Mechanism,
    reason: impl Into<String>,
) -> ConnectionError {
    ConnectionError::Authentication {
        addr: addr.clone(),
        mechanism: mechanism.to_string(),
        reason: reason.into(),
    }
}

/// The mechanism's step machine, with credentials (or a token) from `security`.
async fn session(
    addr: &BrokerAddress,
    security: &SecurityConfig,
) -> Result<Box<dyn SaslSession>, ConnectionError> {
    let mechanism = security.sasl_mechanism;
    if mechanism == Mechanism::OAuthBearer {
        let provider = security
            .oauthbearer_token_provider
            .as_ref()
            .ok_or_else(|| {
                auth_error(
                    addr,
                    mechanism,
                    "no token provider: set SecurityConfig::oauthbearer_token_provider (or, for \
                 development, enable.sasl.oauthbearer.unsecure.jwt=true with \
                 sasl.oauthbearer.config=principal=NAME)",
                )
            })?;
        let token =
            provider.0.token().await.map_err(|e| {
                auth_error(addr, mechanism, format!("the token provider failed: {e}"))
            })?;
        let mut extensions = security.sasl_oauthbearer_extensions.clone();
        for (k, v) in provider.0.extensions().iter() {
            extensions
                .insert(k, v)
                .map_err(|e| auth_error(addr, mechanism, e.to_string()))?;
        }
        return Ok(Box::new(
            crate::sasl::oauthbearer::OAuthBearerSession::new(token).with_extensions(extensions),
        ));
    }
    let username = security.sasl_username.clone().ok_or_else(|| {
        auth_error(
            addr,
            mechanism,
            "sasl.username (or sasl.jaas.config) is not set",
        )
    })?;
    let password = security
        .sasl_password
        .as_ref()
        .map(|p| p.expose().to_owned())
        .ok_or_else(|| {
            auth_error(
                addr,
                mechanism,
                "sasl.password (or sasl.jaas.config) is not set",
            )
        })?;
    mechanism
        .session(&Credentials::new(username, password))
        .map_err(|e| auth_error(addr, mechanism, e.to_string()))
}

/// Check a SaslHandshake answer.
fn check_handshake(
    addr: &BrokerAddress,
    mechanism: Mechanism,
    handshake: &SaslHandshakeResponse,
) -> Result<(), ConnectionError> {
    match ErrorCode(handshake.error_code) {
        ErrorCode::NONE => Ok(()),
        ErrorCode::UNSUPPORTED_SASL_MECHANISM => Err(auth_error(
            addr,
            mechanism,
            format!(
                "the broker does not enable {mechanism}; it offers {}",
                handshake.mechanisms.join(", ")
            ),
        )),
        code => Err(auth_error(
            addr,
            mechanism,
            format!("SaslHandshake: {code}"),
        )),
    }
}

/// Authenticate with a broker before Kafka 1.0 (no SaslAuthenticate API): SaslHandshake v0,
/// then the mechanism's messages as raw size-prefixed tokens on the bare stream. Such a broker
/// reports bad credentials by closing the connection, so a close during the exchange is an
/// authentication error. Sessions on these brokers never expire.
pub(super) async fn authenticate_raw<S>(
    prelude: &mut Prelude<S>,
    versions: &ApiVersions,
    security: &SecurityConfig,
) -> Result<(), ConnectionError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let addr = prelude.addr().clone();
    let mechanism = security.sasl_mechanism;
    if versions.version(ApiKey::SaslHandshake) != Some(0) {
        return Err(auth_error(
            &addr,
            mechanism,
            format!(
                "the broker offers no SaslAuthenticate and SaslHandshake {}: it cannot authenticate",
                versions.describe_broker(ApiKey::SaslHandshake)
            ),
        ));
    }
    let mut session = session(&addr, security).await?;
    let request = SaslHandshakeRequest {
        mechanism: mechanism.to_string(),
        ..Default::default()
    };
    let frame = prelude.round_trip(&request, 0).await?;
    let handshake = frame::decode_response::<SaslHandshakeRequest>(frame, 0).map_err(|source| {
        ConnectionError::Decode {
            addr: addr.clone(),
            api: ApiKey::SaslHandshake,
            version: 0,
            source,
        }
    })?;
    check_handshake(&addr, mechanism, &handshake)?;
    let closed = |e: ConnectionError| match e {
        ConnectionError::Closed { .. } => auth_error(
            &addr,
            mechanism,
            "the broker closed the connection during the exchange (a broker before Kafka 1.0 \
             reports wrong credentials this way)",
        ),
        other => other,
    };
    let mut next = session
        .initial_response()
        .map_err(|e| auth_error(&addr, mechanism, e.to_string()))?;
    loop {
        let reply = prelude.raw_token(&next).await.map_err(closed)?;
        match session
            .step(&reply)
            .map_err(|e| auth_error(&addr, mechanism, e.to_string()))?
        {
            Step::Continue(bytes) => next = bytes,
            Step::Done => {
                tracing::debug!(broker = %addr, %mechanism, "authenticated (SaslHandshake v0)");
                return Ok(());
            }
        }
    }
}

/// Authenticate `conn` with SaslHandshake and SaslAuthenticate (Kafka 1.0 and later); returns
/// when to re-authenticate (KIP-368), if the broker limits the session. `exclusive` is the
/// connection's exclusive guard when re-authenticating.
pub(super) async fn authenticate(
    conn: &BrokerConnection,
    security: &SecurityConfig,
    exclusive: Option<&OwnedRwLockWriteGuard<()>>,
) -> Result<Option<Instant>, ConnectionError> {
    let addr = conn.addr().clone();
    let mechanism = security.sasl_mechanism;
    let mut session = session(&addr, security).await?;

    let request = SaslHandshakeRequest {
        mechanism: mechanism.to_string(),
        ..Default::default()
    };
    let handshake = match exclusive {
        Some(g) => conn.send_exclusive(g, &request).await?,
        None => conn.send(&request).await?,
    };
    check_handshake(&addr, mechanism, &handshake)?;

    let mut next = session
        .initial_response()
        .map_err(|e| auth_error(&addr, mechanism, e.to_string()))?;
    let started = Instant::now();
    loop {
        let request = SaslAuthenticateRequest {
            auth_bytes: Bytes::from(next),
            ..Default::default()
        };
        let resp = match exclusive {
            Some(g) => conn.send_exclusive(g, &request).await?,
            None => conn.send(&request).await?,
        };
        let code = ErrorCode(resp.error_code);
        if !code.is_ok() {
            let message = resp.error_message.unwrap_or_default();
            return Err(auth_error(
                &addr,
                mechanism,
                if message.is_empty() {
                    code.to_string()
                } else {
                    format!("{} ({message})", code.name())
                },
            ));
        }
        match session
            .step(&resp.auth_bytes)
            .map_err(|e| auth_error(&addr, mechanism, e.to_string()))?
        {
            Step::Continue(bytes) => next = bytes,
            Step::Done => {
                tracing::debug!(broker = %addr, %mechanism, lifetime_ms = resp.session_lifetime_ms, "authenticated");
                return Ok(crate::sasl::reauth_deadline(
                    started,
                    resp.session_lifetime_ms,
                ));
            }
        }
    }
}

static REAUTHENTICATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many KIP-368 re-authentications succeeded in this process (all connections).
pub fn reauthentications() -> u64 {
    REAUTHENTICATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

/// KIP-368: re-authenticate `conn` on the same socket before each session ends, with new
/// requests held back and nothing in flight during the exchange (requests are delayed, never
/// failed or reordered). Stops when the connection closes; a failed re-authentication closes
/// it (its requests fail as on any broken connection and are retried on a new one).
pub(super) async fn reauthenticate_before(
    conn: BrokerConnection,
    security: SecurityConfig,
    mut deadline: Instant,
) {
    loop {
        tokio::time::sleep_until(deadline.into()).await;
        if conn.is_closed() {
            return;
        }
        let guard = match conn.messenger.exclusive().await {
            Ok(g) => g,
            Err(e) => {
                tracing::debug!(broker = %conn.addr(), error = %e, "re-authentication skipped: connection broken");
                return;
            }
        };
        let started = Instant::now();
        match authenticate(&conn, &security, Some(&guard)).await {
            Ok(Some(next)) => {
                REAUTHENTICATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(broker = %conn.addr(), took = ?started.elapsed(), "re-authenticated");
                deadline = next;
            }
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(broker = %conn.addr(), error = %e, "re-authentication failed; closing the connection");
                conn.close();
                return;
            }
        }
        drop(guard);
    }
}
