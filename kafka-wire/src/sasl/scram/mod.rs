//! `SCRAM-SHA-256` and `SCRAM-SHA-512` (RFC 5802, RFC 7677), client side.
//!
//! The exchange, as `SaslAuthenticate` `auth_bytes`:
//!
//! ```text
//! client-first  n,,n=<username>,r=<client nonce>
//! server-first  r=<client nonce><server nonce>,s=<base64 salt>,i=<iterations>
//! client-final  c=biws,r=<nonce>,p=<base64 ClientProof>
//! server-final  v=<base64 ServerSignature>          (or e=<server-error-value>)
//! ```
//!
//! `SaltedPassword = PBKDF2-HMAC(password, salt, iterations)`, `ClientKey = HMAC(SaltedPassword,
//! "Client Key")`, `ClientProof = ClientKey XOR HMAC(H(ClientKey), AuthMessage)`,
//! `ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage)`, where `AuthMessage`
//! is client-first without its `n,,` header, server-first and client-final without the proof,
//! joined by commas.
//!
//! As Kafka's Java `ScramFormatter` does, the username is sent as UTF-8 with `=` escaped to `=3D`
//! and `,` to `=2C`, and the password is used as UTF-8; neither is SASLprep-normalised. There is no
//! channel binding (`c=biws` is base64 of the `n,,` header). The broker's iteration count must lie
//! in [`MIN_ITERATIONS`]`..=`[`MAX_ITERATIONS`], and its signature is compared in constant time.
//! Kafka's delegation-token extension (`tokenauth=true`) is not sent.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::digest::Digest;
use hmac::{EagerHash, Hmac, KeyInit, Mac};
use rand::distr::Alphanumeric;
use rand::Rng;

use super::{sanitize, Credentials, Mechanism, SaslError, SaslSession, Step};

/// Fewest PBKDF2 iterations accepted from the broker (RFC 7677's minimum, and Java's).
pub const MIN_ITERATIONS: u32 = 4096;

/// Most PBKDF2 iterations accepted from the broker, so that a hostile broker cannot make the client
/// spin (Kafka's own SCRAM credentials allow at most 16384).
pub const MAX_ITERATIONS: u32 = 1_000_000;

/// Length of a generated client nonce, in alphanumeric characters (about 190 bits).
const NONCE_LEN: usize = 32;

/// base64 of the GS2 header `n,,`: no channel binding, no authorization identity.
const CHANNEL_BINDING: &str = "biws";

/// The hash function of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScramHash {
    Sha256,
    Sha512,
}

impl ScramHash {
    fn mechanism(self) -> Mechanism {
        match self {
            ScramHash::Sha256 => Mechanism::ScramSha256,
            ScramHash::Sha512 => Mechanism::ScramSha512,
        }
    }

    /// `Hi(password, salt, iterations)`, i.e. PBKDF2 with HMAC and one output block.
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => salted_password::<sha2::Sha256>(password, salt, iterations),
            ScramHash::Sha512 => salted_password::<sha2::Sha512>(password, salt, iterations),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => hmac::<sha2::Sha256>(key, data),
            ScramHash::Sha512 => hmac::<sha2::Sha512>(key, data),
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// Whether `HMAC(key, data) == tag`, compared in constant time.
    fn verify_hmac(self, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
        match self {
            ScramHash::Sha256 => verify_hmac::<sha2::Sha256>(key, data, tag),
            ScramHash::Sha512 => verify_hmac::<sha2::Sha512>(key, data, tag),
        }
    }
}

fn salted_password<D: EagerHash>(password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut out = vec![0; <D as Digest>::output_size()];
    pbkdf2::pbkdf2_hmac::<D>(password, salt, iterations, &mut out);
    out
}

fn new_hmac<D: EagerHash>(key: &[u8]) -> Hmac<D> {
    // Not network input: HMAC accepts keys of any length, so this cannot fail.
    <Hmac<D> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

fn hmac<D: EagerHash>(key: &[u8], data: &[u8]) -> Vec<u8> {
    new_hmac::<D>(key)
        .chain_update(data)
        .finalize()
        .into_bytes()
        .to_vec()
}

fn verify_hmac<D: EagerHash>(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    new_hmac::<D>(key)
        .chain_update(data)
        .verify_slice(tag)
        .is_ok()
}

/// A username as an RFC 5802 `saslname`: `=` becomes `=3D` and `,` becomes `=2C`.
fn escape_username(username: &str) -> String {
    username.replace('=', "=3D").replace(',', "=2C")
}

/// Whether `nonce` is an RFC 5802 `printable` string: ASCII `0x21..=0x7E` except `,`.
fn is_printable_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// A fresh random client nonce from the thread-local CSPRNG.
fn random_nonce() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(NONCE_LEN)
        .map(char::from)
        .collect()
}

/// Splits a SCRAM attribute `a=value` into its name and value.
fn attribute(part: &str) -> Option<(char, &str)> {
    let bytes = part.as_bytes();
    match bytes {
        [name, b'=', ..] if name.is_ascii_alphabetic() => Some((char::from(*name), &part[2..])),
        _ => None,
    }
}

/// Where a [`ScramSession`] is in its exchange.
enum State {
    Initial,
    ClientFirstSent {
        client_first_bare: String,
    },
    ClientFinalSent {
        server_key: Vec<u8>,
        auth_message: String,
    },
    Done,
    Failed,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Initial => "Initial",
            State::ClientFirstSent { .. } => "ClientFirstSent",
            State::ClientFinalSent { .. } => "ClientFinalSent",
            State::Done => "Done",
            State::Failed => "Failed",
        }
    }
}

/// What server-first says.
struct ServerFirst<'a> {
    nonce: &'a str,
    salt: Vec<u8>,
    iterations: u32,
}

/// Client side of a `SCRAM-SHA-256` or `SCRAM-SHA-512` exchange: client-first, then client-final
/// in answer to server-first, then verification of server-final's signature.
pub struct ScramSession {
    hash: ScramHash,
    credentials: Credentials,
    client_nonce: String,
    state: State,
}

impl ScramSession {
    /// A `SCRAM-SHA-256` session for `credentials` with a random client nonce. Fails if the
    /// username is empty or contains NUL.
    pub fn sha256(credentials: Credentials) -> Result<Self, SaslError> {
        Self::with_hash(ScramHash::Sha256, credentials)
    }

    /// A `SCRAM-SHA-512` session for `credentials` with a random client nonce. Fails if the
    /// username is empty or contains NUL.
    pub fn sha512(credentials: Credentials) -> Result<Self, SaslError> {
        Self::with_hash(ScramHash::Sha512, credentials)
    }

    fn with_hash(hash: ScramHash, credentials: Credentials) -> Result<Self, SaslError> {
        let invalid = |reason| SaslError::InvalidCredentials {
            mechanism: hash.mechanism(),
            reason,
        };
        if credentials.username().is_empty() {
            return Err(invalid("the username is empty"));
        }
        if credentials.username().contains('\0') {
            return Err(invalid("the username contains a NUL character"));
        }
        Ok(Self {
            hash,
            credentials,
            client_nonce: random_nonce(),
            state: State::Initial,
        })
    }

    /// Replaces the random client nonce with `nonce`, for test vectors and reproducible tests.
    /// Production code should keep the random nonce.
    ///
    /// # Panics
    ///
    /// If `nonce` is empty or not printable ASCII without `,` (RFC 5802 `printable`).
    pub fn with_nonce(mut self, nonce: impl Into<String>) -> Self {
        let nonce = nonce.into();
        assert!(
            is_printable_nonce(&nonce),
            "a SCRAM client nonce must be non-empty printable ASCII without ','"
        );
        self.client_nonce = nonce;
        self
    }

    /// The client nonce sent in client-first.
    pub fn client_nonce(&self) -> &str {
        &self.client_nonce
    }

    fn mechanism_id(&self) -> Mechanism {
        self.hash.mechanism()
    }

    fn malformed(&self, reason: impl Into<String>) -> SaslError {
        SaslError::MalformedServerMessage {
            mechanism: self.mechanism_id(),
            reason: reason.into(),
        }
    }

    fn server_error(&self, value: &str) -> SaslError {
        SaslError::ScramServerError {
            mechanism: self.mechanism_id(),
            value: sanitize(value.as_bytes()),
        }
    }

    /// The value of the attribute named `name` in `part`, or a malformed-message error that says
    /// what was expected.
    fn expect_attribute<'a>(
        &self,
        part: Option<&'a str>,
        name: char,
        what: &str,
    ) -> Result<&'a str, SaslError> {
        match part {
            None => Err(self.malformed(format!("missing {what} attribute `{name}=`"))),
            Some(part) => match attribute(part) {
                Some((found, value)) if found == name => Ok(value),
                _ => Err(self.malformed(format!(
                    "expected {what} attribute `{name}=`, found {:?}",
                    sanitize(part.as_bytes())
                ))),
            },
        }
    }

    fn parse_server_first<'a>(&self, text: &'a str) -> Result<ServerFirst<'a>, SaslError> {
        if text.is_empty() {
            return Err(self.malformed("empty server-first message"));
        }
        let mut parts = text.split(',');
        let first = parts.next();
        match first.and_then(attribute) {
            Some(('e', value)) => return Err(self.server_error(value)),
            Some(('m', _)) => {
                return Err(self.malformed(
                    "the broker requires a mandatory extension (`m=`) this client does not support",
                ))
            }
            _ => {}
        }
        let nonce = self.expect_attribute(first, 'r', "nonce")?;
        let salt = self.expect_attribute(parts.next(), 's', "salt")?;
        let iterations = self.expect_attribute(parts.next(), 'i', "iteration count")?;
        // Further attributes are extensions, which RFC 5802 tells clients to ignore.

        if !is_printable_nonce(nonce) {
            return Err(self.malformed("nonce `r=` is empty or not printable ASCII"));
        }
        if !nonce.starts_with(&self.client_nonce) {
            return Err(SaslError::NonceMismatch {
                mechanism: self.mechanism_id(),
            });
        }

        let salt = BASE64.decode(salt).map_err(|_| SaslError::InvalidBase64 {
            mechanism: self.mechanism_id(),
            attribute: 's',
        })?;
        if salt.is_empty() {
            return Err(self.malformed("salt `s=` is empty"));
        }

        if iterations.is_empty() || !iterations.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.malformed(format!(
                "iteration count `i=` is not a decimal number: {:?}",
                sanitize(iterations.as_bytes())
            )));
        }
        // All digits: a parse failure can only be overflow, i.e. absurdly large.
        let requested = iterations.parse::<u64>().unwrap_or(u64::MAX);
        let out_of_range = || SaslError::IterationCount {
            mechanism: self.mechanism_id(),
            iterations: requested,
            min: MIN_ITERATIONS,
            max: MAX_ITERATIONS,
        };
        let iterations = u32::try_from(requested).map_err(|_| out_of_range())?;
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(out_of_range());
        }

        Ok(ServerFirst {
            nonce,
            salt,
            iterations,
        })
    }

    /// Handles server-first: returns client-final, and keeps what verifying server-final needs.
    fn on_server_first(
        &mut self,
        client_first_bare: &str,
        server: &[u8],
    ) -> Result<Vec<u8>, SaslError> {
        let text = std::str::from_utf8(server)
            .map_err(|_| self.malformed("server-first message is not UTF-8"))?;
        let first = self.parse_server_first(text)?;

        let without_proof = format!("c={CHANNEL_BINDING},r={}", first.nonce);
        let auth_message = format!("{client_first_bare},{text},{without_proof}");

        let hash = self.hash;
        let salted = hash.salted_password(
            self.credentials.password().as_bytes(),
            &first.salt,
            first.iterations,
        );
        let client_key = hash.hmac(&salted, b"Client Key");
        let stored_key = hash.hash(&client_key);
        let client_signature = hash.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(key, signature)| key ^ signature)
            .collect();
        let server_key = hash.hmac(&salted, b"Server Key");

        let client_final = format!("{without_proof},p={}", BASE64.encode(proof));
        self.state = State::ClientFinalSent {
            server_key,
            auth_message,
        };
        Ok(client_final.into_bytes())
    }

    /// Handles server-final: `v=` must carry the ServerSignature.
    fn on_server_final(
        &self,
        server_key: &[u8],
        auth_message: &str,
        server: &[u8],
    ) -> Result<(), SaslError> {
        let text = std::str::from_utf8(server)
            .map_err(|_| self.malformed("server-final message is not UTF-8"))?;
        let first = text.split(',').next().unwrap_or_default();
        match attribute(first) {
            Some(('e', value)) => Err(self.server_error(value)),
            Some(('v', signature)) => {
                let signature = BASE64
                    .decode(signature)
                    .map_err(|_| SaslError::InvalidBase64 {
                        mechanism: self.mechanism_id(),
                        attribute: 'v',
                    })?;
                if self
                    .hash
                    .verify_hmac(server_key, auth_message.as_bytes(), &signature)
                {
                    Ok(())
                } else {
                    Err(SaslError::ServerSignatureMismatch {
                        mechanism: self.mechanism_id(),
                    })
                }
            }
            _ => Err(self.malformed(format!(
                "expected server signature `v=` or server error `e=`, found {:?}",
                sanitize(first.as_bytes())
            ))),
        }
    }

    fn out_of_order(&self, reason: &'static str) -> SaslError {
        SaslError::InvalidState {
            mechanism: self.mechanism_id(),
            reason,
        }
    }
}

impl fmt::Debug for ScramSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramSession")
            .field("mechanism", &self.mechanism_id())
            .field("credentials", &self.credentials)
            .field("client_nonce", &self.client_nonce)
            .field("state", &self.state.name())
            .finish()
    }
}

impl SaslSession for ScramSession {
    fn mechanism(&self) -> Mechanism {
        self.mechanism_id()
    }

    fn initial_response(&mut self) -> Result<Vec<u8>, SaslError> {
        if !matches!(self.state, State::Initial) {
            self.state = State::Failed;
            return Err(self.out_of_order("initial_response called twice"));
        }
        let client_first_bare = format!(
            "n={},r={}",
            escape_username(self.credentials.username()),
            self.client_nonce
        );
        let client_first = format!("n,,{client_first_bare}");
        self.state = State::ClientFirstSent { client_first_bare };
        Ok(client_first.into_bytes())
    }

    fn step(&mut self, server: &[u8]) -> Result<Step, SaslError> {
        // Any error leaves the session `Failed`.
        match std::mem::replace(&mut self.state, State::Failed) {
            State::ClientFirstSent { client_first_bare } => self
                .on_server_first(&client_first_bare, server)
                .map(Step::Continue),
            State::ClientFinalSent {
                server_key,
                auth_message,
            } => {
                self.on_server_final(&server_key, &auth_message, server)?;
                self.state = State::Done;
                Ok(Step::Done)
            }
            State::Initial => Err(self.out_of_order("step called before initial_response")),
            State::Done | State::Failed => {
                Err(self.out_of_order("step called after the exchange ended"))
            }
        }
    }

    fn is_complete(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

#[cfg(test)]
mod tests;
