//! SASL authentication mechanisms as sans-I/O step machines.
//!
//! After `ApiVersions`, a connection to a broker with a `SASL_PLAINTEXT` or `SASL_SSL` listener
//! authenticates: the client sends `SaslHandshake` naming a mechanism, then one or more
//! `SaslAuthenticate` requests whose `auth_bytes` carry the mechanism's messages, and the broker
//! answers each with its own `auth_bytes`. This module holds only the mechanisms: bytes in, bytes
//! out, no sockets, no clock. The connection handshake drives a [`SaslSession`]:
//!
//! 1. send [`SaslSession::initial_response`] as the first `SaslAuthenticate` `auth_bytes`;
//! 2. feed each `SaslAuthenticate` response's `auth_bytes` to [`SaslSession::step`]:
//!    [`Step::Continue`] carries the next request's `auth_bytes`, [`Step::Done`] means the
//!    mechanism finished successfully on the client side (for SCRAM this includes having verified
//!    the broker's signature, so the broker has proved it knows the password too);
//! 3. a non-zero `error_code` in a response (usually `SASL_AUTHENTICATION_FAILED`) ends the
//!    exchange; the broker's `error_message` is the authoritative reason;
//! 4. after success, schedule KIP-368 re-authentication with [`reauth_deadline`] from the last
//!    response's `session_lifetime_ms`.
//!
//! | mechanism | Kafka name | session type |
//! |---|---|---|
//! | [`Mechanism::Plain`] | `PLAIN` | [`plain::PlainSession`] (RFC 4616) |
//! | [`Mechanism::ScramSha256`] | `SCRAM-SHA-256` | [`scram::ScramSession`] (RFC 5802, RFC 7677) |
//! | [`Mechanism::ScramSha512`] | `SCRAM-SHA-512` | [`scram::ScramSession`] |
//! | [`Mechanism::OAuthBearer`] | `OAUTHBEARER` | [`oauthbearer::OAuthBearerSession`] (RFC 7628, KIP-255, KIP-342) |
//!
//! Secrets never appear in `Debug` output or in [`SaslError`] messages.
//!
//! ```
//! use kafka_wire::sasl::{Credentials, Mechanism, Step};
//!
//! let mut session = Mechanism::Plain.session(&Credentials::new("alice", "alice-secret"))?;
//! assert_eq!(session.mechanism_name(), "PLAIN");
//! assert_eq!(session.initial_response()?, b"\0alice\0alice-secret");
//! // The broker accepts PLAIN with empty `auth_bytes`.
//! assert_eq!(session.step(b"")?, Step::Done);
//! # Ok::<(), kafka_wire::sasl::SaslError>(())
//! ```

use std::fmt;
use std::str::FromStr;

#[cfg(feature = "entra")]
pub mod entra;
pub mod oauthbearer;
pub mod plain;
mod reauth;
pub mod scram;
pub mod token_provider;

pub use reauth::reauth_deadline;
pub use token_provider::{TokenProvider, TokenProviderHandle, UnsecuredJwt};

/// A username and password for `PLAIN` and `SCRAM-SHA-*` (Kafka's `sasl.jaas.config` `username`
/// and `password`).
///
/// `Debug` shows the username and redacts the password.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    /// Credentials for `username` with `password`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The username (SASL authentication identity).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password. Keep it out of logs.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A SASL mechanism, spelled as Kafka's `sasl.mechanism` property and `SaslHandshake` do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616): username and password in clear, so only over TLS.
    Plain,
    /// `SCRAM-SHA-256` (RFC 5802, RFC 7677).
    ScramSha256,
    /// `SCRAM-SHA-512` (RFC 5802 with SHA-512).
    ScramSha512,
    /// `OAUTHBEARER` (RFC 7628, KIP-255): a bearer token from the caller.
    OAuthBearer,
}

impl Mechanism {
    /// Every mechanism this client implements.
    pub const ALL: [Mechanism; 4] = [
        Mechanism::Plain,
        Mechanism::ScramSha256,
        Mechanism::ScramSha512,
        Mechanism::OAuthBearer,
    ];

    /// Kafka's name for the mechanism: `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` or `OAUTHBEARER`.
    pub const fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// The mechanism with Kafka name `name` (case-sensitive, as the broker compares it), if this
    /// client implements it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Starts a session for a username/password mechanism (`PLAIN`, `SCRAM-SHA-256`,
    /// `SCRAM-SHA-512`). SCRAM sessions get a fresh random client nonce.
    ///
    /// `OAUTHBEARER` takes a token instead: it returns [`SaslError::TokenRequired`]; use
    /// [`oauthbearer::OAuthBearerSession::new`].
    pub fn session(self, credentials: &Credentials) -> Result<Box<dyn SaslSession>, SaslError> {
        match self {
            Mechanism::Plain => Ok(Box::new(plain::PlainSession::new(credentials.clone())?)),
            Mechanism::ScramSha256 => {
                Ok(Box::new(scram::ScramSession::sha256(credentials.clone())?))
            }
            Mechanism::ScramSha512 => {
                Ok(Box::new(scram::ScramSession::sha512(credentials.clone())?))
            }
            Mechanism::OAuthBearer => Err(SaslError::TokenRequired),
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mechanism {
    type Err = SaslError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| SaslError::UnsupportedMechanism(sanitize(s.as_bytes())))
    }
}

/// What the client does after a server message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Step {
    /// Send these bytes as the next `SaslAuthenticate` request's `auth_bytes`.
    Continue(Vec<u8>),
    /// The mechanism finished successfully on the client side; send nothing more.
    Done,
}

/// One client-side authentication exchange of a SASL mechanism, driven by the connection
/// handshake (see the [module docs](self)).
///
/// A session is used once: after [`Step::Done`] or any error, further calls fail with
/// [`SaslError::InvalidState`]. Re-authentication (KIP-368) starts a new session.
pub trait SaslSession: Send + fmt::Debug {
    /// The mechanism this session speaks.
    fn mechanism(&self) -> Mechanism;

    /// Kafka's name for the mechanism, as sent in `SaslHandshake`.
    fn mechanism_name(&self) -> &'static str {
        self.mechanism().name()
    }

    /// The client's first message, sent as the first `SaslAuthenticate` `auth_bytes`. Called
    /// exactly once, before [`step`](Self::step).
    fn initial_response(&mut self) -> Result<Vec<u8>, SaslError>;

    /// Handles the broker's `auth_bytes` from a `SaslAuthenticate` response that carried no error
    /// code, and says what to send next.
    fn step(&mut self, server: &[u8]) -> Result<Step, SaslError>;

    /// Whether the exchange finished successfully ([`Step::Done`] was returned).
    fn is_complete(&self) -> bool;
}

/// Why a SASL exchange failed on the client side. Messages never contain passwords or tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// `sasl.mechanism` names a mechanism this client does not implement.
    #[error(
        "unsupported SASL mechanism {0:?}: expected PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"
    )]
    UnsupportedMechanism(String),

    /// `OAUTHBEARER` was asked to start from a username and password.
    #[error(
        "OAUTHBEARER authenticates with a bearer token, not a username and password: \
         start an OAuthBearerSession with the token"
    )]
    TokenRequired,

    /// The credentials cannot be encoded for this mechanism (for example an empty username, or a
    /// NUL character in `PLAIN`).
    #[error("invalid {mechanism} credentials: {reason}")]
    InvalidCredentials {
        /// The mechanism.
        mechanism: Mechanism,
        /// What is wrong.
        reason: &'static str,
    },

    /// The `OAUTHBEARER` token is not an RFC 6750 bearer token (`b64token`).
    #[error("invalid OAUTHBEARER token: {reason}")]
    InvalidToken {
        /// What is wrong (the token itself is not included).
        reason: &'static str,
    },

    /// A SASL extension (RFC 7628, KIP-342) has an invalid key or value.
    #[error("invalid SASL extension {key:?}: {reason}")]
    InvalidExtension {
        /// The extension key (sanitised; values are never included).
        key: String,
        /// What is wrong.
        reason: &'static str,
    },

    /// The session was used out of order (for example `step` before `initial_response`, or after
    /// the exchange ended).
    #[error("{mechanism}: session used out of order: {reason}")]
    InvalidState {
        /// The mechanism.
        mechanism: Mechanism,
        /// What was attempted.
        reason: &'static str,
    },

    /// A server message does not follow the mechanism's grammar.
    #[error("{mechanism}: malformed server message: {reason}")]
    MalformedServerMessage {
        /// The mechanism.
        mechanism: Mechanism,
        /// What is wrong with it.
        reason: String,
    },

    /// SCRAM: the nonce in server-first does not extend the client nonce, so the message does not
    /// belong to this exchange.
    #[error(
        "{mechanism}: server nonce does not start with the client nonce: \
         the broker's reply does not belong to this exchange"
    )]
    NonceMismatch {
        /// The mechanism.
        mechanism: Mechanism,
    },

    /// SCRAM: the broker asked for too few (weak) or too many (denial of service) PBKDF2
    /// iterations.
    #[error(
        "{mechanism}: server asked for {iterations} iterations, outside the accepted range {min}..={max}"
    )]
    IterationCount {
        /// The mechanism.
        mechanism: Mechanism,
        /// The requested count (saturated at `u64::MAX`).
        iterations: u64,
        /// The smallest accepted count.
        min: u32,
        /// The largest accepted count.
        max: u32,
    },

    /// SCRAM: a base64 attribute (`s=` or `v=`) does not decode.
    #[error("{mechanism}: malformed server message: attribute `{attribute}=` is not valid base64")]
    InvalidBase64 {
        /// The mechanism.
        mechanism: Mechanism,
        /// The attribute name.
        attribute: char,
    },

    /// SCRAM: the broker answered with `e=<server-error-value>` (RFC 5802 §7).
    #[error("{mechanism}: server error: {value}{}", scram_error_hint(.value))]
    ScramServerError {
        /// The mechanism.
        mechanism: Mechanism,
        /// The server's error value, e.g. `invalid-proof` or `unknown-user`.
        value: String,
    },

    /// SCRAM: the broker's `v=` does not equal the ServerSignature computed from the password.
    #[error(
        "{mechanism}: server signature mismatch: \
         the broker does not know this password or is not who it claims"
    )]
    ServerSignatureMismatch {
        /// The mechanism.
        mechanism: Mechanism,
    },

    /// `OAUTHBEARER`: the broker rejected the token with an RFC 7628 error challenge (JSON such
    /// as `{"status":"invalid_token"}`).
    #[error("OAUTHBEARER: the broker rejected the token: {message}")]
    OAuthBearerRejected {
        /// The broker's error challenge (sanitised).
        message: String,
    },
}

/// Extra words for well-known RFC 5802 `server-error-value`s.
fn scram_error_hint(value: &str) -> &'static str {
    match value {
        "invalid-proof" => " (the broker rejected the client proof: wrong password)",
        "unknown-user" => " (the broker has no SCRAM credentials for this user and mechanism)",
        "invalid-encoding" => " (the broker could not parse the client's message)",
        "invalid-username-encoding" => " (the broker could not decode the username)",
        "extensions-not-supported" => " (the broker does not support a requested extension)",
        "no-resources" => " (the broker is out of resources)",
        _ => "",
    }
}

/// Longest server-provided text kept in an error.
const MAX_SERVER_TEXT: usize = 512;

/// Server-provided bytes as text fit for an error message: lossy UTF-8, control characters
/// escaped, at most [`MAX_SERVER_TEXT`] characters.
pub(crate) fn sanitize(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == MAX_SERVER_TEXT {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_redacts_the_password() {
        let creds = Credentials::new("alice", "hunter2-very-secret");
        let debug = format!("{creds:?}");
        assert!(debug.contains("alice"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        let pretty = format!("{creds:#?}");
        assert!(!pretty.contains("hunter2"), "{pretty}");
    }

    #[test]
    fn session_debug_never_shows_the_password() {
        let creds = Credentials::new("alice", "hunter2-very-secret");
        for mechanism in [
            Mechanism::Plain,
            Mechanism::ScramSha256,
            Mechanism::ScramSha512,
        ] {
            let mut session = mechanism.session(&creds).expect("valid credentials");
            let _ = session.initial_response().expect("first message");
            let debug = format!("{session:?}");
            assert!(!debug.contains("hunter2"), "{mechanism}: {debug}");
        }
    }

    #[test]
    fn mechanism_names_round_trip() {
        let names: Vec<_> = Mechanism::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(
            names,
            ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
        );
        for m in Mechanism::ALL {
            assert_eq!(m.name().parse::<Mechanism>(), Ok(m));
            assert_eq!(m.to_string(), m.name());
        }
        assert_eq!(Mechanism::from_name("scram-sha-256"), None);
        let err = "GSSAPI".parse::<Mechanism>().unwrap_err();
        assert!(err.to_string().contains("GSSAPI"), "{err}");
    }

    #[test]
    fn sessions_report_their_mechanism() {
        let creds = Credentials::new("u", "p");
        for m in [
            Mechanism::Plain,
            Mechanism::ScramSha256,
            Mechanism::ScramSha512,
        ] {
            let session = m.session(&creds).expect("session");
            assert_eq!(session.mechanism(), m);
            assert_eq!(session.mechanism_name(), m.name());
            assert!(!session.is_complete());
        }
        assert!(matches!(
            Mechanism::OAuthBearer.session(&creds),
            Err(SaslError::TokenRequired)
        ));
    }

    #[test]
    fn sanitize_escapes_and_bounds_server_text() {
        assert_eq!(sanitize(b"a\x01b\nc"), "a\\u{1}b\\nc");
        assert_eq!(sanitize(b"\xff"), "\u{fffd}");
        let long = vec![b'x'; MAX_SERVER_TEXT + 10];
        assert_eq!(sanitize(&long).chars().count(), MAX_SERVER_TEXT + 1);
    }
}
