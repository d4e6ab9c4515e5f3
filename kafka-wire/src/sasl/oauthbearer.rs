//! `OAUTHBEARER` (RFC 7628, KIP-255) with SASL extensions (KIP-342), client side.
//!
//! The client's only message is a GS2 header and key/value pairs separated by `\x01`:
//!
//! ```text
//! n,,\x01auth=Bearer <token>\x01[<key>=<value>\x01 ...]\x01
//! ```
//!
//! The broker answers with empty `auth_bytes` on success. If it rejects the token it sends an
//! error challenge instead (RFC 7628 §3.2.2, JSON such as `{"status":"invalid_token"}`); the
//! client must answer that with a single `\x01`, after which the broker fails the exchange
//! (`SASL_AUTHENTICATION_FAILED`). [`OAuthBearerSession`] does exactly that: it returns
//! `Step::Continue(vec![0x01])`, keeps the challenge in
//! [`server_error`](OAuthBearerSession::server_error), and fails with
//! [`SaslError::OAuthBearerRejected`] on any further server message.
//!
//! Fetching and refreshing tokens (for example from Entra ID) is the caller's job: a session is
//! built from an [`OAuthBearerToken`] it already holds.

use std::collections::BTreeMap;
use std::fmt;

use super::{sanitize, Mechanism, SaslError, SaslSession, Step};

/// The `\x01` (Control-A) separator of RFC 7628 key/value pairs, and the client's whole answer to
/// an error challenge.
const KVSEP: u8 = 0x01;

/// The extension key reserved for the token itself.
const AUTH_KEY: &str = "auth";

/// An OAuth 2 bearer token from the caller's token provider.
///
/// `Debug` redacts the token value.
#[derive(Clone)]
pub struct OAuthBearerToken {
    value: String,
    lifetime_ms: i64,
}

impl OAuthBearerToken {
    /// A token with compact serialization `value` (typically a JWT) that expires at
    /// `lifetime_ms`, in milliseconds since the Unix epoch (Kafka's `OAuthBearerToken.lifetimeMs`).
    ///
    /// Fails unless `value` is an RFC 6750 `b64token`: one or more of `A-Z a-z 0-9 - . _ ~ + /`,
    /// then optional `=` padding.
    pub fn new(value: impl Into<String>, lifetime_ms: i64) -> Result<Self, SaslError> {
        let value = value.into();
        validate_b64token(&value)?;
        Ok(Self { value, lifetime_ms })
    }

    /// The token's compact serialization. Keep it out of logs.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// When the token expires, in milliseconds since the Unix epoch.
    pub fn lifetime_ms(&self) -> i64 {
        self.lifetime_ms
    }
}

impl fmt::Debug for OAuthBearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthBearerToken")
            .field("value", &"<redacted>")
            .field("lifetime_ms", &self.lifetime_ms)
            .finish()
    }
}

/// Checks the RFC 6750 `b64token` grammar: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
/// "/" ) *"="`.
fn validate_b64token(token: &str) -> Result<(), SaslError> {
    let invalid = |reason| Err(SaslError::InvalidToken { reason });
    let body = token.trim_end_matches('=');
    if body.is_empty() {
        return invalid("the token is empty");
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
    if !body.bytes().all(allowed) {
        return invalid(
            "the token is not an RFC 6750 b64token \
             (only A-Z a-z 0-9 - . _ ~ + / followed by optional = padding)",
        );
    }
    Ok(())
}

/// SASL extensions sent with the token (RFC 7628, KIP-342), for example Confluent Cloud's
/// `logicalCluster` and `identityPoolId`.
///
/// Keys are one or more ASCII letters and not `auth`; values are one or more printable ASCII
/// characters, space, tab, CR or LF. Both rules are checked on insertion, as Java's
/// `OAuthBearerClientInitialResponse` does. Extensions are sent sorted by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslExtensions(BTreeMap<String, String>);

impl SaslExtensions {
    /// No extensions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds extension `key` with `value`, returning the value it replaces.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Option<String>, SaslError> {
        let key = key.into();
        let value = value.into();
        validate_extension(&key, &value)?;
        Ok(self.0.insert(key, value))
    }

    /// `self` with extension `key` set to `value`, for building in one expression.
    pub fn with(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, SaslError> {
        self.insert(key, value)?;
        Ok(self)
    }

    /// The value of extension `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The extensions, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many extensions there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no extensions.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Checks an extension against RFC 7628 §3.1: `key = 1*(ALPHA)`, not `auth`; the value is one or
/// more of `%x21-7E`, SP, HTAB, CR, LF.
fn validate_extension(key: &str, value: &str) -> Result<(), SaslError> {
    let invalid = |reason| {
        Err(SaslError::InvalidExtension {
            key: sanitize(key.as_bytes()),
            reason,
        })
    };
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic()) {
        return invalid("the key must be one or more ASCII letters");
    }
    if key == AUTH_KEY {
        return invalid("the key `auth` is reserved for the token");
    }
    let printable = |b: u8| (0x21..=0x7e).contains(&b) || matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    if value.is_empty() || !value.bytes().all(printable) {
        return invalid(
            "the value must be one or more printable ASCII characters, spaces, tabs, CRs or LFs",
        );
    }
    Ok(())
}

/// Where an [`OAuthBearerSession`] is in its exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Initial,
    Sent,
    /// The broker sent an error challenge and the client answered `\x01`.
    AwaitingFailure,
    Done,
    Failed,
}

/// Client side of an `OAUTHBEARER` exchange: one client message carrying the token and
/// extensions, then success (empty reply) or the RFC 7628 failure dance (see the
/// [module docs](self)).
#[derive(Debug, Clone)]
pub struct OAuthBearerSession {
    token: OAuthBearerToken,
    extensions: SaslExtensions,
    state: State,
    server_error: Option<String>,
}

impl OAuthBearerSession {
    /// A session presenting `token` with no extensions.
    pub fn new(token: OAuthBearerToken) -> Self {
        Self {
            token,
            extensions: SaslExtensions::new(),
            state: State::Initial,
            server_error: None,
        }
    }

    /// `self` sending `extensions` with the token.
    pub fn with_extensions(mut self, extensions: SaslExtensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// The token this session presents.
    pub fn token(&self) -> &OAuthBearerToken {
        &self.token
    }

    /// The extensions this session sends.
    pub fn extensions(&self) -> &SaslExtensions {
        &self.extensions
    }

    /// The broker's error challenge (sanitised), once it has rejected the token. The connection
    /// handshake can add it to the `SASL_AUTHENTICATION_FAILED` error it reports.
    pub fn server_error(&self) -> Option<&str> {
        self.server_error.as_deref()
    }

    fn out_of_order(&mut self, reason: &'static str) -> SaslError {
        self.state = State::Failed;
        SaslError::InvalidState {
            mechanism: Mechanism::OAuthBearer,
            reason,
        }
    }
}

impl SaslSession for OAuthBearerSession {
    fn mechanism(&self) -> Mechanism {
        Mechanism::OAuthBearer
    }

    fn initial_response(&mut self) -> Result<Vec<u8>, SaslError> {
        if self.state != State::Initial {
            return Err(self.out_of_order("initial_response called twice"));
        }
        let mut message = Vec::with_capacity(32 + self.token.value.len());
        message.extend_from_slice(b"n,,");
        message.push(KVSEP);
        message.extend_from_slice(b"auth=Bearer ");
        message.extend_from_slice(self.token.value.as_bytes());
        message.push(KVSEP);
        for (key, value) in self.extensions.iter() {
            message.extend_from_slice(key.as_bytes());
            message.push(b'=');
            message.extend_from_slice(value.as_bytes());
            message.push(KVSEP);
        }
        message.push(KVSEP);
        self.state = State::Sent;
        Ok(message)
    }

    fn step(&mut self, server: &[u8]) -> Result<Step, SaslError> {
        match self.state {
            State::Sent if server.is_empty() => {
                self.state = State::Done;
                Ok(Step::Done)
            }
            State::Sent => {
                // An error challenge: acknowledge it with `\x01`; the broker then fails the
                // exchange.
                self.server_error = Some(sanitize(server));
                self.state = State::AwaitingFailure;
                Ok(Step::Continue(vec![KVSEP]))
            }
            State::AwaitingFailure => {
                self.state = State::Failed;
                Err(SaslError::OAuthBearerRejected {
                    message: self.server_error.clone().unwrap_or_default(),
                })
            }
            State::Initial => Err(self.out_of_order("step called before initial_response")),
            State::Done | State::Failed => {
                Err(self.out_of_order("step called after the exchange ended"))
            }
        }
    }

    fn is_complete(&self) -> bool {
        self.state == State::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.sig-_~+/==";

    fn token() -> OAuthBearerToken {
        OAuthBearerToken::new(JWT, 1_700_000_000_000).expect("valid token")
    }

    #[test]
    fn initial_response_without_extensions() {
        let mut session = OAuthBearerSession::new(token());
        assert_eq!(session.mechanism_name(), "OAUTHBEARER");
        let expected = format!("n,,\x01auth=Bearer {JWT}\x01\x01");
        assert_eq!(
            session.initial_response().expect("first"),
            expected.as_bytes()
        );
        assert_eq!(session.step(b""), Ok(Step::Done));
        assert!(session.is_complete());
        assert!(session.server_error().is_none());
    }

    #[test]
    fn initial_response_with_extensions_sorted_by_key() {
        let extensions = SaslExtensions::new()
            .with("traceId", "a b\tc")
            .and_then(|e| e.with("logicalCluster", "lkc-123"))
            .expect("valid extensions");
        assert_eq!(extensions.len(), 2);
        assert_eq!(extensions.get("logicalCluster"), Some("lkc-123"));
        let mut session = OAuthBearerSession::new(token()).with_extensions(extensions);
        let expected =
            format!("n,,\x01auth=Bearer {JWT}\x01logicalCluster=lkc-123\x01traceId=a b\tc\x01\x01");
        assert_eq!(
            session.initial_response().expect("first"),
            expected.as_bytes()
        );
    }

    #[test]
    fn insert_replaces_and_returns_the_old_value() {
        let mut extensions = SaslExtensions::new();
        assert_eq!(extensions.insert("k", "one"), Ok(None));
        assert_eq!(extensions.insert("k", "two"), Ok(Some("one".to_owned())));
        assert_eq!(extensions.iter().collect::<Vec<_>>(), [("k", "two")]);
    }

    #[test]
    fn extension_keys_and_values_are_validated() {
        let bad_keys = [
            "",
            "auth",
            "a1",
            "a-b",
            "a b",
            "a=b",
            "\u{e9}t\u{e9}",
            "a\x01",
        ];
        for key in bad_keys {
            let err = SaslExtensions::new().with(key, "value").unwrap_err();
            assert!(
                matches!(err, SaslError::InvalidExtension { .. }),
                "{key:?}: {err:?}"
            );
        }
        let bad_values = ["", "a\x01b", "nul\0", "caf\u{e9}", "\x7f"];
        for value in bad_values {
            let err = SaslExtensions::new().with("key", value).unwrap_err();
            assert!(
                matches!(err, SaslError::InvalidExtension { .. }),
                "{value:?}: {err:?}"
            );
            // The value is never echoed in the error.
            assert!(
                value.is_empty() || !err.to_string().contains(value),
                "{err}"
            );
        }
        let err = SaslExtensions::new().with("auth", "x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid SASL extension \"auth\": the key `auth` is reserved for the token"
        );
        // Case matters, as in Java: only `auth` itself is reserved.
        assert!(SaslExtensions::new().with("Auth", "x").is_ok());
        assert!(SaslExtensions::new().with("key", "!~ \t\r\n").is_ok());
    }

    #[test]
    fn tokens_are_validated_as_b64token() {
        for good in ["a", "abc.def.ghi", "A-Z_0.9~+/", "abc=", "abc=="] {
            assert!(OAuthBearerToken::new(good, 0).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "=",
            "===",
            "a b",
            "Bearer x",
            "a\x01b",
            "a=b",
            "tok\u{e9}n",
            "a,b",
        ] {
            let err = OAuthBearerToken::new(bad, 0).unwrap_err();
            assert!(matches!(err, SaslError::InvalidToken { .. }), "{bad:?}");
            assert!(bad.is_empty() || !err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn server_error_challenge_is_answered_with_kvsep_then_fails() {
        let mut session = OAuthBearerSession::new(token());
        let _ = session.initial_response().expect("first");
        let challenge = br#"{"status":"invalid_token","scope":"kafka","openid-configuration":"https://idp/.well-known/openid-configuration"}"#;
        assert_eq!(session.step(challenge), Ok(Step::Continue(vec![0x01])));
        assert!(!session.is_complete());
        assert_eq!(
            session.server_error(),
            Some(std::str::from_utf8(challenge).expect("utf-8"))
        );
        // The broker then fails the exchange; any further message is the failure.
        let err = session.step(b"").unwrap_err();
        let SaslError::OAuthBearerRejected { message } = &err else {
            panic!("unexpected {err:?}");
        };
        assert!(message.contains("invalid_token"), "{message}");
        assert!(err.to_string().starts_with(
            "OAUTHBEARER: the broker rejected the token: {\"status\":\"invalid_token\""
        ));
        assert!(!err.to_string().contains(JWT));
        assert!(matches!(
            session.step(b""),
            Err(SaslError::InvalidState { .. })
        ));
        assert!(!session.is_complete());
    }

    #[test]
    fn hostile_error_challenge_is_sanitised() {
        let mut session = OAuthBearerSession::new(token());
        let _ = session.initial_response().expect("first");
        assert_eq!(
            session.step(b"\xff\x00{\"status\":\n\"x\"}"),
            Ok(Step::Continue(vec![0x01]))
        );
        assert_eq!(
            session.server_error(),
            Some("\u{fffd}\\u{0}{\"status\":\\n\"x\"}")
        );
    }

    #[test]
    fn out_of_order_calls_are_errors() {
        let mut session = OAuthBearerSession::new(token());
        assert!(matches!(
            session.step(b""),
            Err(SaslError::InvalidState { .. })
        ));
        let mut session = OAuthBearerSession::new(token());
        let _ = session.initial_response().expect("first");
        assert!(matches!(
            session.initial_response(),
            Err(SaslError::InvalidState { .. })
        ));
        let mut session = OAuthBearerSession::new(token());
        let _ = session.initial_response().expect("first");
        assert_eq!(session.step(b""), Ok(Step::Done));
        assert!(matches!(
            session.step(b""),
            Err(SaslError::InvalidState { .. })
        ));
    }

    #[test]
    fn debug_redacts_the_token() {
        let session = OAuthBearerSession::new(token());
        let debug = format!("{session:?}");
        assert!(!debug.contains("eyJ"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert_eq!(token().lifetime_ms(), 1_700_000_000_000);
        assert_eq!(token().value(), JWT);
    }
}
