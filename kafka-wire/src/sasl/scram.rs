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
mod tests {
    use super::*;

    const RFC7677_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
    const RFC7677_SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const RFC7677_CLIENT_FINAL: &str =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
         p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const RFC7677_SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    fn rfc7677_session() -> ScramSession {
        ScramSession::sha256(Credentials::new("user", "pencil"))
            .expect("valid")
            .with_nonce(RFC7677_NONCE)
    }

    /// Runs client-first and returns the session waiting for server-first.
    fn started(hash: ScramHash, user: &str, password: &str) -> ScramSession {
        let mut session = ScramSession::with_hash(hash, Credentials::new(user, password))
            .expect("valid")
            .with_nonce("fixedclientnonce");
        let _ = session.initial_response().expect("client-first");
        session
    }

    #[test]
    fn rfc7677_scram_sha256_vector() {
        let mut session = rfc7677_session();
        assert_eq!(session.mechanism_name(), "SCRAM-SHA-256");
        assert_eq!(
            session.initial_response().expect("client-first"),
            b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO".to_vec()
        );
        let client_final = session
            .step(RFC7677_SERVER_FIRST.as_bytes())
            .expect("server-first");
        assert_eq!(
            client_final,
            Step::Continue(RFC7677_CLIENT_FINAL.as_bytes().to_vec())
        );
        assert!(!session.is_complete());
        assert_eq!(
            session.step(RFC7677_SERVER_FINAL.as_bytes()),
            Ok(Step::Done)
        );
        assert!(session.is_complete());
        assert!(matches!(
            session.step(b""),
            Err(SaslError::InvalidState { .. })
        ));
    }

    #[test]
    fn rfc7677_vector_with_a_forged_server_signature_fails() {
        let mut session = rfc7677_session();
        let _ = session.initial_response().expect("client-first");
        let _ = session
            .step(RFC7677_SERVER_FIRST.as_bytes())
            .expect("server-first");
        // Same length, last byte changed.
        let err = session
            .step(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G8=")
            .unwrap_err();
        assert_eq!(
            err,
            SaslError::ServerSignatureMismatch {
                mechanism: Mechanism::ScramSha256
            }
        );
        assert_eq!(
            err.to_string(),
            "SCRAM-SHA-256: server signature mismatch: \
             the broker does not know this password or is not who it claims"
        );
        assert!(!session.is_complete());
    }

    /// A test-only SCRAM server: holds the credential as a broker stores it (salt, iterations,
    /// StoredKey, ServerKey), never the password.
    struct TestServer {
        hash: ScramHash,
        username: String,
        salt: Vec<u8>,
        iterations: u32,
        stored_key: Vec<u8>,
        server_key: Vec<u8>,
        /// Whether to check the client proof (a real broker does) or to answer `v=` regardless.
        check_proof: bool,
        client_first_bare: String,
        server_first: String,
        nonce: String,
    }

    impl TestServer {
        fn new(hash: ScramHash, username: &str, password: &str) -> Self {
            let salt = b"kafka-wire test salt".to_vec();
            let iterations = MIN_ITERATIONS;
            let salted = hash.salted_password(password.as_bytes(), &salt, iterations);
            let client_key = hash.hmac(&salted, b"Client Key");
            Self {
                hash,
                username: username.to_owned(),
                salt,
                iterations,
                stored_key: hash.hash(&client_key),
                server_key: hash.hmac(&salted, b"Server Key"),
                check_proof: true,
                client_first_bare: String::new(),
                server_first: String::new(),
                nonce: String::new(),
            }
        }

        fn server_first(&mut self, client_first: &[u8]) -> Vec<u8> {
            let text = std::str::from_utf8(client_first).expect("utf-8");
            let bare = text.strip_prefix("n,,").expect("gs2 header");
            let (user, nonce) = bare.split_once(",r=").expect("r=");
            let user = user.strip_prefix("n=").expect("n=");
            let user = user.replace("=2C", ",").replace("=3D", "=");
            assert_eq!(user, self.username);
            self.client_first_bare = bare.to_owned();
            self.nonce = format!("{nonce}+server-part%$");
            self.server_first = format!(
                "r={},s={},i={}",
                self.nonce,
                BASE64.encode(&self.salt),
                self.iterations
            );
            self.server_first.clone().into_bytes()
        }

        fn server_final(&self, client_final: &[u8]) -> Vec<u8> {
            let text = std::str::from_utf8(client_final).expect("utf-8");
            let (without_proof, proof) = text.rsplit_once(",p=").expect("p=");
            assert_eq!(without_proof, format!("c=biws,r={}", self.nonce));
            let auth_message = format!(
                "{},{},{}",
                self.client_first_bare, self.server_first, without_proof
            );
            if self.check_proof {
                let proof = BASE64.decode(proof).expect("base64 proof");
                let signature = self.hash.hmac(&self.stored_key, auth_message.as_bytes());
                let client_key: Vec<u8> =
                    proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
                if self.hash.hash(&client_key) != self.stored_key {
                    return b"e=invalid-proof".to_vec();
                }
            }
            let signature = self.hash.hmac(&self.server_key, auth_message.as_bytes());
            format!("v={}", BASE64.encode(signature)).into_bytes()
        }
    }

    /// Runs a full exchange between `session` and `server`.
    fn exchange(session: &mut ScramSession, server: &mut TestServer) -> Result<(), SaslError> {
        let client_first = session.initial_response()?;
        let server_first = server.server_first(&client_first);
        let Step::Continue(client_final) = session.step(&server_first)? else {
            panic!("expected client-final");
        };
        let server_final = server.server_final(&client_final);
        assert_eq!(session.step(&server_final)?, Step::Done);
        Ok(())
    }

    #[test]
    fn scram_sha512_round_trip() {
        let mut server = TestServer::new(ScramHash::Sha512, "alice", "alice-secret");
        let mut session =
            ScramSession::sha512(Credentials::new("alice", "alice-secret")).expect("valid");
        assert_eq!(session.mechanism_name(), "SCRAM-SHA-512");
        exchange(&mut session, &mut server).expect("authenticated");
        assert!(session.is_complete());
    }

    #[test]
    fn scram_sha256_round_trip() {
        let mut server = TestServer::new(ScramHash::Sha256, "bob", "bob-secret");
        let mut session =
            ScramSession::sha256(Credentials::new("bob", "bob-secret")).expect("valid");
        exchange(&mut session, &mut server).expect("authenticated");
    }

    #[test]
    fn scram_sha512_wrong_password_is_a_signature_mismatch() {
        // A server that does not know the client's password (it holds another one) cannot
        // produce the right ServerSignature.
        let mut server = TestServer::new(ScramHash::Sha512, "alice", "the-real-password");
        server.check_proof = false;
        let mut session =
            ScramSession::sha512(Credentials::new("alice", "a-wrong-password")).expect("valid");
        let err = exchange(&mut session, &mut server).unwrap_err();
        assert_eq!(
            err,
            SaslError::ServerSignatureMismatch {
                mechanism: Mechanism::ScramSha512
            }
        );
        assert!(err.to_string().contains("server signature mismatch"));
        assert!(!err.to_string().contains("a-wrong-password"));
        assert!(!session.is_complete());
    }

    #[test]
    fn scram_sha512_wrong_password_rejected_by_a_checking_server() {
        let mut server = TestServer::new(ScramHash::Sha512, "alice", "the-real-password");
        let mut session =
            ScramSession::sha512(Credentials::new("alice", "a-wrong-password")).expect("valid");
        let err = exchange(&mut session, &mut server).unwrap_err();
        assert_eq!(
            err,
            SaslError::ScramServerError {
                mechanism: Mechanism::ScramSha512,
                value: "invalid-proof".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "SCRAM-SHA-512: server error: invalid-proof \
             (the broker rejected the client proof: wrong password)"
        );
    }

    #[test]
    fn sha256_and_sha512_credentials_do_not_mix() {
        let mut server = TestServer::new(ScramHash::Sha256, "alice", "pw");
        server.check_proof = false;
        let mut session = ScramSession::sha512(Credentials::new("alice", "pw")).expect("valid");
        assert!(matches!(
            exchange(&mut session, &mut server),
            Err(SaslError::ServerSignatureMismatch { .. })
        ));
    }

    #[test]
    fn username_is_escaped_like_java() {
        assert_eq!(escape_username("plain"), "plain");
        assert_eq!(escape_username("a=b,c"), "a=3Db=2Cc");
        assert_eq!(escape_username("=,"), "=3D=2C");
        assert_eq!(escape_username("=2C"), "=3D2C");

        let mut session = ScramSession::sha256(Credentials::new("us=er,x", "pencil"))
            .expect("valid")
            .with_nonce("abc");
        assert_eq!(
            session.initial_response().expect("client-first"),
            b"n,,n=us=3Der=2Cx,r=abc".to_vec()
        );

        // And a server that unescapes it authenticates the right user.
        let mut server = TestServer::new(ScramHash::Sha512, "us=er,x", "pw");
        let mut session = ScramSession::sha512(Credentials::new("us=er,x", "pw")).expect("valid");
        exchange(&mut session, &mut server).expect("authenticated");
    }

    #[test]
    fn random_nonces_are_printable_and_fresh() {
        let a = ScramSession::sha256(Credentials::new("u", "p")).expect("valid");
        let b = ScramSession::sha256(Credentials::new("u", "p")).expect("valid");
        assert_eq!(a.client_nonce().len(), NONCE_LEN);
        assert!(a.client_nonce().bytes().all(|c| c.is_ascii_alphanumeric()));
        assert!(is_printable_nonce(a.client_nonce()));
        assert_ne!(a.client_nonce(), b.client_nonce());
    }

    #[test]
    #[should_panic(expected = "SCRAM client nonce")]
    fn with_nonce_rejects_a_comma() {
        let _ = ScramSession::sha256(Credentials::new("u", "p"))
            .expect("valid")
            .with_nonce("a,b");
    }

    #[test]
    fn rejects_unencodable_usernames() {
        for user in ["", "a\0b"] {
            let err = ScramSession::sha256(Credentials::new(user, "secret-pw")).unwrap_err();
            assert!(
                matches!(err, SaslError::InvalidCredentials { .. }),
                "{err:?}"
            );
        }
    }

    #[test]
    fn malformed_server_first_messages_are_typed_errors() {
        type Check = fn(&SaslError) -> bool;
        let malformed: Check = |e| matches!(e, SaslError::MalformedServerMessage { .. });
        let nonce_mismatch: Check = |e| matches!(e, SaslError::NonceMismatch { .. });
        let iterations: Check = |e| matches!(e, SaslError::IterationCount { .. });
        let base64: Check = |e| matches!(e, SaslError::InvalidBase64 { attribute: 's', .. });
        let other_error: Check =
            |e| matches!(e, SaslError::ScramServerError { value, .. } if value == "other-error");

        let n = "fixedclientnonce";
        let cases: Vec<(Vec<u8>, Check)> = vec![
            (b"".to_vec(), malformed),
            (b"\xff\xfe".to_vec(), malformed),
            (b",,,".to_vec(), malformed),
            (b"garbage".to_vec(), malformed),
            (format!("r={n}x,s=c2FsdA==").into_bytes(), malformed),
            (format!("r={n}x,i=4096").into_bytes(), malformed),
            (format!("r={n}x").into_bytes(), malformed),
            (b"s=c2FsdA==,i=4096".to_vec(), malformed),
            (format!("s=c2FsdA==,r={n}x,i=4096").into_bytes(), malformed),
            (
                format!("m=ext,r={n}x,s=c2FsdA==,i=4096").into_bytes(),
                malformed,
            ),
            (b"r=,s=c2FsdA==,i=4096".to_vec(), malformed),
            (
                format!("r={n}\u{1},s=c2FsdA==,i=4096").into_bytes(),
                malformed,
            ),
            (format!("r={n}x,s=,i=4096").into_bytes(), malformed),
            (format!("r={n}x,s=c2FsdA==,i=").into_bytes(), malformed),
            (format!("r={n}x,s=c2FsdA==,i=-1").into_bytes(), malformed),
            (
                format!("r={n}x,s=c2FsdA==,i=0x1000").into_bytes(),
                malformed,
            ),
            (format!("r={n}x,s=c2FsdA==,i= 4096").into_bytes(), malformed),
            (b"r=someoneelse,s=c2FsdA==,i=4096".to_vec(), nonce_mismatch),
            (b"r=fixedclient,s=c2FsdA==,i=4096".to_vec(), nonce_mismatch),
            (format!("r={n}x,s=c2FsdA==,i=0").into_bytes(), iterations),
            (format!("r={n}x,s=c2FsdA==,i=4095").into_bytes(), iterations),
            (
                format!("r={n}x,s=c2FsdA==,i=1000001").into_bytes(),
                iterations,
            ),
            (
                format!("r={n}x,s=c2FsdA==,i=4294967297").into_bytes(),
                iterations,
            ),
            (
                format!("r={n}x,s=c2FsdA==,i=99999999999999999999999999").into_bytes(),
                iterations,
            ),
            (format!("r={n}x,s=!!!notbase64,i=4096").into_bytes(), base64),
            (format!("r={n}x,s=c2FsdA=,i=4096").into_bytes(), base64),
            (b"e=other-error".to_vec(), other_error),
        ];
        for hash in [ScramHash::Sha256, ScramHash::Sha512] {
            for (message, check) in &cases {
                let mut session = started(hash, "alice", "alice-secret");
                let err = session.step(message).unwrap_err();
                assert!(
                    check(&err),
                    "{:?} gave {err:?}",
                    String::from_utf8_lossy(message)
                );
                assert!(!err.to_string().contains("alice-secret"), "{err}");
                // A failed session stays failed.
                assert!(matches!(
                    session.step(b"v=AAAA"),
                    Err(SaslError::InvalidState { .. })
                ));
            }
        }
    }

    #[test]
    fn iteration_count_error_names_the_bounds() {
        let mut session = started(ScramHash::Sha256, "alice", "pw");
        let err = session
            .step(b"r=fixedclientnoncex,s=c2FsdA==,i=0")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "SCRAM-SHA-256: server asked for 0 iterations, outside the accepted range 4096..=1000000"
        );
    }

    #[test]
    fn server_first_extensions_are_ignored() {
        let mut session = rfc7677_session();
        let _ = session.initial_response().expect("client-first");
        // An extension after `i=` is not part of the vector, so only check it is accepted.
        let with_extension = format!("{RFC7677_SERVER_FIRST},x=extension");
        assert!(matches!(
            session.step(with_extension.as_bytes()),
            Ok(Step::Continue(_))
        ));
    }

    #[test]
    fn malformed_server_final_messages_are_typed_errors() {
        type Check = fn(&SaslError) -> bool;
        let malformed: Check = |e| matches!(e, SaslError::MalformedServerMessage { .. });
        let base64: Check = |e| matches!(e, SaslError::InvalidBase64 { attribute: 'v', .. });
        let mismatch: Check = |e| matches!(e, SaslError::ServerSignatureMismatch { .. });
        let encoding: Check = |e| {
            matches!(e, SaslError::ScramServerError { value, .. } if value == "invalid-encoding")
                && e.to_string()
                    .starts_with("SCRAM-SHA-256: server error: invalid-encoding")
        };
        let cases: Vec<(&[u8], Check)> = vec![
            (b"", malformed),
            (b"\xff", malformed),
            (b"x=1", malformed),
            (b"p=abc", malformed),
            (b"v=!!!", base64),
            (b"v=", mismatch),
            (b"v=AAAA", mismatch),
            (b"e=invalid-encoding", encoding),
        ];
        for (message, check) in cases {
            let mut session = rfc7677_session();
            let _ = session.initial_response().expect("client-first");
            let _ = session
                .step(RFC7677_SERVER_FIRST.as_bytes())
                .expect("server-first");
            let err = session.step(message).unwrap_err();
            assert!(
                check(&err),
                "{:?} gave {err:?}",
                String::from_utf8_lossy(message)
            );
            assert!(!err.to_string().contains("pencil"), "{err}");
            assert!(!session.is_complete());
        }
    }

    #[test]
    fn server_error_text_is_sanitised() {
        let mut session = started(ScramHash::Sha256, "alice", "pw");
        let err = session.step(b"e=bad\nthing\x07").unwrap_err();
        assert_eq!(
            err.to_string(),
            "SCRAM-SHA-256: server error: bad\\nthing\\u{7}"
        );
    }

    #[test]
    fn out_of_order_calls_are_errors() {
        let mut session = rfc7677_session();
        assert!(matches!(
            session.step(RFC7677_SERVER_FIRST.as_bytes()),
            Err(SaslError::InvalidState { .. })
        ));

        let mut session = rfc7677_session();
        let _ = session.initial_response().expect("client-first");
        assert!(matches!(
            session.initial_response(),
            Err(SaslError::InvalidState { .. })
        ));
    }

    #[test]
    fn debug_shows_no_secrets() {
        let mut session = rfc7677_session();
        let _ = session.initial_response().expect("client-first");
        let _ = session
            .step(RFC7677_SERVER_FIRST.as_bytes())
            .expect("server-first");
        let debug = format!("{session:?}");
        assert!(!debug.contains("pencil"), "{debug}");
        assert!(debug.contains("ClientFinalSent"), "{debug}");
    }
}
