//! Where OAUTHBEARER tokens come from: an async [`TokenProvider`] the application supplies
//! (an identity platform's client, Entra ID, a file…), asked for a fresh token at every
//! authentication and KIP-368 re-authentication.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use futures_util::future::BoxFuture;

use super::oauthbearer::{OAuthBearerToken, SaslExtensions};

/// Supplies OAUTHBEARER tokens (Java's `AuthenticateCallbackHandler` for login, librdkafka's
/// `oauthbearer_token_refresh_cb`). Errors are messages for the user; never put the token in
/// them.
pub trait TokenProvider: Send + Sync + 'static {
    /// A currently valid token.
    fn token(&self) -> BoxFuture<'_, Result<OAuthBearerToken, String>>;

    /// SASL extensions to send with the token (KIP-342; Java's `SaslExtensionsCallback`). They
    /// are added to `SecurityConfig::sasl_oauthbearer_extensions`, replacing equal keys.
    /// None by default.
    fn extensions(&self) -> SaslExtensions {
        SaslExtensions::new()
    }
}

/// A [`TokenProvider`] held by a configuration (compared by identity, printed without secrets).
#[derive(Clone)]
pub struct TokenProviderHandle(pub Arc<dyn TokenProvider>);

impl PartialEq for TokenProviderHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for TokenProviderHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenProvider")
    }
}

/// Unsigned JWTs (`"alg":"none"`) for a principal: what Kafka's development-only
/// `OAuthBearerUnsecuredValidatorCallbackHandler` accepts, and librdkafka's
/// `enable.sasl.oauthbearer.unsecure.jwt`. Never for production.
#[derive(Debug, Clone)]
pub struct UnsecuredJwt {
    /// The `sub` claim: the principal the broker will see.
    pub principal: String,
    /// How long each token is valid.
    pub lifetime: Duration,
}

impl UnsecuredJwt {
    /// Tokens for `principal`, valid for an hour.
    pub fn new(principal: impl Into<String>) -> Self {
        UnsecuredJwt {
            principal: principal.into(),
            lifetime: Duration::from_secs(3600),
        }
    }

    /// The token at `now`.
    pub fn token_at(&self, now: SystemTime) -> Result<OAuthBearerToken, String> {
        let iat = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "the clock is before 1970".to_string())?;
        let exp = iat + self.lifetime;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none"}"#);
        let claims = format!(
            r#"{{"sub":{},"iat":{},"exp":{}}}"#,
            json_string(&self.principal),
            iat.as_secs(),
            exp.as_secs()
        );
        let payload = b64.encode(claims.as_bytes());
        OAuthBearerToken::new(
            format!("{header}.{payload}."),
            i64::try_from(exp.as_millis()).unwrap_or(i64::MAX),
        )
        .map_err(|e| e.to_string())
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl TokenProvider for UnsecuredJwt {
    fn token(&self) -> BoxFuture<'_, Result<OAuthBearerToken, String>> {
        Box::pin(async move { self.token_at(SystemTime::now()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsecured_jwt_has_the_claims_kafka_checks() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let t = UnsecuredJwt::new("alice").token_at(now).expect("token");
        let parts: Vec<&str> = t.value().split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], "", "unsigned");
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims = String::from_utf8(b64.decode(parts[1]).expect("b64")).expect("utf8");
        assert_eq!(
            claims,
            r#"{"sub":"alice","iat":1700000000,"exp":1700003600}"#
        );
        assert_eq!(t.lifetime_ms(), 1_700_003_600_000);
    }
}
