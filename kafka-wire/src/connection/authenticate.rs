//! SASL authentication of a connection (`security.protocol=SASL_PLAINTEXT|SASL_SSL`):
//! SaslHandshake names the mechanism, then SaslAuthenticate requests carry the mechanism's
//! messages (from [`crate::sasl`]) until it is done. The broker's answer may carry a session
//! lifetime (KIP-368): the connection must re-authenticate before it ends.

use std::time::Instant;

use bytes::Bytes;

use crate::config::{BrokerAddress, SecurityConfig};
use crate::error::ConnectionError;
use crate::protocol::messages::sasl_authenticate_request::SaslAuthenticateRequest;
use crate::protocol::messages::sasl_handshake_request::SaslHandshakeRequest;
use crate::protocol::{ApiKey, ErrorCode};
use crate::sasl::{Credentials, Mechanism, Step};

use super::BrokerConnection;

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

/// Authenticate `conn`; returns when the session expires (KIP-368), if the broker set a limit.
pub(super) async fn authenticate(
    conn: &BrokerConnection,
    security: &SecurityConfig,
) -> Result<Option<Instant>, ConnectionError> {
    let addr = conn.addr().clone();
    let mechanism = security.sasl_mechanism;
    if conn.versions.version(ApiKey::SaslAuthenticate).is_none() {
        return Err(auth_error(
            &addr,
            mechanism,
            "the broker does not offer SaslAuthenticate (brokers before 1.0 need the v0 raw-token exchange, which this client does not speak)",
        ));
    }
    let username = security.sasl_username.clone().ok_or_else(|| {
        auth_error(
            &addr,
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
                &addr,
                mechanism,
                "sasl.password (or sasl.jaas.config) is not set",
            )
        })?;
    let mut session = mechanism
        .session(&Credentials::new(username, password))
        .map_err(|e| auth_error(&addr, mechanism, e.to_string()))?;

    let handshake = conn
        .send(&SaslHandshakeRequest {
            mechanism: mechanism.to_string(),
            ..Default::default()
        })
        .await?;
    match ErrorCode(handshake.error_code) {
        ErrorCode::NONE => {}
        ErrorCode::UNSUPPORTED_SASL_MECHANISM => {
            return Err(auth_error(
                &addr,
                mechanism,
                format!(
                    "the broker does not enable {mechanism}; it offers {}",
                    handshake.mechanisms.join(", ")
                ),
            ))
        }
        code => {
            return Err(auth_error(
                &addr,
                mechanism,
                format!("SaslHandshake: {code}"),
            ))
        }
    }

    let mut next = session
        .initial_response()
        .map_err(|e| auth_error(&addr, mechanism, e.to_string()))?;
    let started = Instant::now();
    loop {
        let resp = conn
            .send(&SaslAuthenticateRequest {
                auth_bytes: Bytes::from(next),
                ..Default::default()
            })
            .await?;
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
