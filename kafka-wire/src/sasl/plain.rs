//! `PLAIN` (RFC 4616): one message, `authzid NUL authcid NUL passwd`, with an empty authzid.
//!
//! The password travels in clear: use `PLAIN` only over TLS (`SASL_SSL`). Azure Event Hubs uses
//! it with username `$ConnectionString` and the connection string as password.

use std::fmt;

use super::{Credentials, Mechanism, SaslError, SaslSession, Step};

/// Where a [`PlainSession`] is in its exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Initial,
    Sent,
    Done,
    Failed,
}

/// Client side of a `PLAIN` exchange: [`initial_response`](SaslSession::initial_response) is
/// `\0username\0password`; the broker's (empty) reply completes it.
#[derive(Clone)]
pub struct PlainSession {
    credentials: Credentials,
    state: State,
}

impl PlainSession {
    /// A session for `credentials`. Fails if the username or password is empty or contains NUL,
    /// which RFC 4616 cannot encode.
    pub fn new(credentials: Credentials) -> Result<Self, SaslError> {
        let invalid = |reason| SaslError::InvalidCredentials {
            mechanism: Mechanism::Plain,
            reason,
        };
        if credentials.username().is_empty() {
            return Err(invalid("the username is empty"));
        }
        if credentials.password().is_empty() {
            return Err(invalid("the password is empty"));
        }
        if credentials.username().contains('\0') {
            return Err(invalid("the username contains a NUL character"));
        }
        if credentials.password().contains('\0') {
            return Err(invalid("the password contains a NUL character"));
        }
        Ok(Self {
            credentials,
            state: State::Initial,
        })
    }

    fn out_of_order(&mut self, reason: &'static str) -> SaslError {
        self.state = State::Failed;
        SaslError::InvalidState {
            mechanism: Mechanism::Plain,
            reason,
        }
    }
}

impl fmt::Debug for PlainSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainSession")
            .field("credentials", &self.credentials)
            .field("state", &self.state)
            .finish()
    }
}

impl SaslSession for PlainSession {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Plain
    }

    fn initial_response(&mut self) -> Result<Vec<u8>, SaslError> {
        if self.state != State::Initial {
            return Err(self.out_of_order("initial_response called twice"));
        }
        let user = self.credentials.username().as_bytes();
        let pass = self.credentials.password().as_bytes();
        let mut message = Vec::with_capacity(2 + user.len() + pass.len());
        message.push(0);
        message.extend_from_slice(user);
        message.push(0);
        message.extend_from_slice(pass);
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
                self.state = State::Failed;
                Err(SaslError::MalformedServerMessage {
                    mechanism: Mechanism::Plain,
                    reason: format!(
                        "expected an empty reply to PLAIN, got {} bytes",
                        server.len()
                    ),
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

    #[test]
    fn initial_response_is_rfc4616_with_empty_authzid() {
        let mut s = PlainSession::new(Credentials::new("$ConnectionString", "Endpoint=sb://x/"))
            .expect("valid");
        assert_eq!(
            s.initial_response().expect("first"),
            b"\0$ConnectionString\0Endpoint=sb://x/".to_vec()
        );
        assert!(!s.is_complete());
        assert_eq!(s.step(b""), Ok(Step::Done));
        assert!(s.is_complete());
    }

    #[test]
    fn utf8_credentials_are_sent_as_utf8() {
        let mut s = PlainSession::new(Credentials::new("jürgen", "pässword")).expect("valid");
        assert_eq!(
            s.initial_response().expect("first"),
            "\0jürgen\0pässword".as_bytes()
        );
    }

    #[test]
    fn rejects_unencodable_credentials() {
        for (user, pass) in [("", "p"), ("u", ""), ("a\0b", "p"), ("u", "p\0q")] {
            let err = PlainSession::new(Credentials::new(user, pass)).unwrap_err();
            assert!(
                matches!(err, SaslError::InvalidCredentials { .. }),
                "{err:?}"
            );
            assert!(!err.to_string().contains("p\0q"), "{err}");
        }
    }

    #[test]
    fn out_of_order_calls_and_unexpected_replies_are_errors() {
        let mut s = PlainSession::new(Credentials::new("u", "p")).expect("valid");
        assert!(matches!(s.step(b""), Err(SaslError::InvalidState { .. })));

        let mut s = PlainSession::new(Credentials::new("u", "p")).expect("valid");
        let _ = s.initial_response().expect("first");
        assert!(matches!(
            s.initial_response(),
            Err(SaslError::InvalidState { .. })
        ));

        let mut s = PlainSession::new(Credentials::new("u", "p")).expect("valid");
        let _ = s.initial_response().expect("first");
        assert!(matches!(
            s.step(b"surprise"),
            Err(SaslError::MalformedServerMessage { .. })
        ));
        assert!(matches!(s.step(b""), Err(SaslError::InvalidState { .. })));
    }
}
