use super::*;

const RFC7677_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
const RFC7677_SERVER_FIRST: &str =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const RFC7677_CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
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
            let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
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
    let mut session = ScramSession::sha256(Credentials::new("bob", "bob-secret")).expect("valid");
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
