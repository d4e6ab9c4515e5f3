//! The token endpoint tests: a local HTTP (and HTTPS) server stands in for Entra ID and the
//! managed identity endpoint. The HTTP client is built with TLS, so they need a crypto provider
//! (see `mod.rs`).

use super::tests::NOW_MS;
use super::*;
use crate::connection::BrokerStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const SECRET: &str = "s3cr3t~client.secret";
const SCOPE: &str = "https://ns.servicebus.windows.net/.default";

/// A request as the local token endpoint saw it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HashMap<String, String>,
    form: HashMap<String, String>,
}

struct Reply {
    status: u16,
    body: Vec<u8>,
    content_length: bool,
}

fn json(status: u16, body: &str) -> Reply {
    Reply {
        status,
        body: body.as_bytes().to_vec(),
        content_length: true,
    }
}

/// A local HTTP/1.1 token endpoint on 127.0.0.1 answering request `n` (from 1) with
/// `reply(n, request)`, recording every request.
struct Endpoint {
    base: String,
    requests: Arc<Mutex<Vec<Request>>>,
    hits: Arc<AtomicUsize>,
}

impl Endpoint {
    async fn start(reply: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static) -> Self {
        Self::serve(reply, None).await
    }

    /// The same over HTTPS, with the test certificate for `localhost` (see `testdata/`).
    async fn start_https(reply: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static) -> Self {
        let chain = CertificateDer::pem_slice_iter(include_bytes!("testdata/localhost.pem"))
            .collect::<Result<Vec<_>, _>>()
            .expect("test certificate");
        let key = PrivateKeyDer::from_pem_slice(include_bytes!("testdata/localhost.key"))
            .expect("test key");
        let provider = crate::tls_provider::provider().expect("a tls-* feature");
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server certificate");
        Self::serve(reply, Some(TlsAcceptor::from(Arc::new(config)))).await
    }

    async fn serve(
        reply: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static,
        tls: Option<TlsAcceptor>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let base = match tls {
            Some(_) => format!("https://localhost:{port}"),
            None => format!("http://127.0.0.1:{port}"),
        };
        let requests = Arc::new(Mutex::new(Vec::new()));
        let hits = Arc::new(AtomicUsize::new(0));
        let reply = Arc::new(reply);
        let (requests2, hits2) = (requests.clone(), hits.clone());
        tokio::spawn(async move {
            // At most 50 connections: the tests make a handful.
            for _ in 0..50 {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (reply, requests, hits) = (reply.clone(), requests2.clone(), hits2.clone());
                let tls = tls.clone();
                tokio::spawn(async move {
                    let mut stream: Box<dyn BrokerStream> = match tls {
                        Some(acceptor) => match acceptor.accept(tcp).await {
                            Ok(s) => Box::new(s),
                            Err(_) => return, // e.g. the client refused our certificate
                        },
                        None => Box::new(tcp),
                    };
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
                    requests.lock().expect("lock").push(request.clone());
                    let r = reply(n, &request);
                    let mut head = format!(
                        "HTTP/1.1 {} Status\r\nContent-Type: application/json\r\nConnection: close\r\n",
                        r.status
                    );
                    if r.content_length {
                        head.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
                    }
                    head.push_str("\r\n");
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(&r.body).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Endpoint {
            base,
            requests,
            hits,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn request(&self, i: usize) -> Request {
        self.requests.lock().expect("lock")[i].clone()
    }
}

async fn read_request(stream: &mut Box<dyn BrokerStream>) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 65_536 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        path: path.to_owned(),
        query: pairs(query),
        form: pairs(&String::from_utf8_lossy(&body)),
        headers,
    })
}

/// `application/x-www-form-urlencoded` pairs.
fn pairs(s: &str) -> HashMap<String, String> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn form_of(fields: &[(&str, &str)]) -> HashMap<String, String> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn client_secret_provider(endpoint: &Endpoint) -> EntraTokenProvider {
    EntraTokenProvider::client_secret("tenant-1", "client-1", SECRET, SCOPE)
        .with_authority_host(&endpoint.base)
}

#[tokio::test]
async fn client_credentials_post_the_form_and_return_the_token() {
    let endpoint = Endpoint::start(|_, _| {
        json(
            200,
            r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAi.eyJhdWQi.c2ln"}"#,
        )
    })
    .await;
    let provider = client_secret_provider(&endpoint);
    let before = now_ms().expect("clock");
    let token = provider.token().await.expect("token");
    let after = now_ms().expect("clock");
    assert_eq!(token.value(), "eyJ0eXAi.eyJhdWQi.c2ln");
    assert!(
        (before + 3_599_000..=after + 3_599_000).contains(&token.lifetime_ms()),
        "{}",
        token.lifetime_ms()
    );
    let r = endpoint.request(0);
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/tenant-1/oauth2/v2.0/token");
    assert_eq!(
        r.headers.get("content-type").map(String::as_str),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        r.form,
        form_of(&[
            ("grant_type", "client_credentials"),
            ("client_id", "client-1"),
            ("client_secret", SECRET),
            ("scope", SCOPE),
        ])
    );
}

#[tokio::test]
async fn managed_identity_gets_imds_with_the_metadata_header() {
    let endpoint = Endpoint::start(|_, _| {
        json(
            200,
            r#"{"access_token":"mi-token","refresh_token":"","expires_in":"86399","expires_on":"1700086399","not_before":"1700000000","resource":"https://ns.servicebus.windows.net","token_type":"Bearer"}"#,
        )
    })
    .await;
    let url = format!("{}/metadata/identity/oauth2/token", endpoint.base);
    let system = EntraTokenProvider::managed_identity_with_env(SCOPE.into(), None, &|_| None)
        .with_managed_identity_endpoint(&url);
    let token = system.token_at(NOW_MS).await.expect("system-assigned");
    assert_eq!(token.value(), "mi-token");
    assert_eq!(token.lifetime_ms(), NOW_MS + 86_399_000);
    let user = EntraTokenProvider::user_assigned_managed_identity("uai-1", SCOPE)
        .with_managed_identity_endpoint(&url);
    user.token_at(NOW_MS).await.expect("user-assigned");

    for (i, client_id) in [None, Some("uai-1")].into_iter().enumerate() {
        let r = endpoint.request(i);
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/metadata/identity/oauth2/token");
        assert_eq!(r.headers.get("metadata").map(String::as_str), Some("true"));
        let mut query = form_of(&[
            ("api-version", "2018-02-01"),
            ("resource", "https://ns.servicebus.windows.net"),
        ]);
        if let Some(id) = client_id {
            query.insert("client_id".into(), id.into());
        }
        assert_eq!(r.query, query);
    }
}

#[tokio::test]
async fn managed_identity_on_app_service_uses_its_endpoint_and_header() {
    let endpoint = Endpoint::start(|_, _| {
        json(
            200,
            r#"{"access_token":"app-token","expires_on":1700003600,"resource":"https://ns.servicebus.windows.net","token_type":"Bearer"}"#,
        )
    })
    .await;
    let url = format!("{}/msi/token", endpoint.base);
    let env = move |name: &str| match name {
        "IDENTITY_ENDPOINT" => Some(url.clone()),
        "IDENTITY_HEADER" => Some("header-s3cr3t".to_owned()),
        _ => None,
    };
    let provider = EntraTokenProvider::managed_identity_with_env(SCOPE.into(), None, &env);
    assert!(!format!("{provider:?}").contains("header-s3cr3t"));
    let token = provider.token_at(NOW_MS).await.expect("token");
    assert_eq!(token.value(), "app-token");
    assert_eq!(token.lifetime_ms(), 1_700_003_600_000);
    let r = endpoint.request(0);
    assert_eq!(r.path, "/msi/token");
    assert_eq!(
        r.headers.get("x-identity-header").map(String::as_str),
        Some("header-s3cr3t")
    );
    assert_eq!(
        r.query,
        form_of(&[
            ("api-version", "2019-08-01"),
            ("resource", "https://ns.servicebus.windows.net"),
        ])
    );
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "kafka-wire-entra-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::write(&path, contents).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn workload_identity_sends_the_federated_token_as_client_assertion() {
    let endpoint = Endpoint::start(|_, _| {
        json(
            200,
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":"wi-token"}"#,
        )
    })
    .await;
    let file = TempFile::new("token", "eyJhbGciOi.eyJpc3Mi.sig-1\n");
    let path = file.0.to_string_lossy().into_owned();
    let base = endpoint.base.clone();
    let env = move |name: &str| match name {
        "AZURE_TENANT_ID" => Some("tenant-2".to_owned()),
        "AZURE_CLIENT_ID" => Some("client-2".to_owned()),
        "AZURE_FEDERATED_TOKEN_FILE" => Some(path.clone()),
        "AZURE_AUTHORITY_HOST" => Some(base.clone()),
        _ => None,
    };
    let provider =
        EntraTokenProvider::workload_identity_with_env(SCOPE.into(), &env).expect("from env");
    let token = provider.token_at(NOW_MS).await.expect("token");
    assert_eq!(token.value(), "wi-token");
    let r = endpoint.request(0);
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/tenant-2/oauth2/v2.0/token");
    assert_eq!(
        r.form,
        form_of(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", "eyJhbGciOi.eyJpc3Mi.sig-1"),
            ("client_id", "client-2"),
            ("scope", SCOPE),
        ])
    );

    // The file is re-read at each request (the kubelet rotates it).
    std::fs::write(&file.0, "eyJhbGciOi.eyJpc3Mi.sig-2").expect("rotate");
    provider
        .token_at(NOW_MS + 3_599_000)
        .await
        .expect("refreshed");
    assert_eq!(
        endpoint
            .request(1)
            .form
            .get("client_assertion")
            .map(String::as_str),
        Some("eyJhbGciOi.eyJpc3Mi.sig-2")
    );

    // A missing file is a clear error.
    let missing = EntraTokenProvider::workload_identity(
        "tenant-2",
        "client-2",
        std::env::temp_dir().join("kafka-wire-entra-no-such-file"),
        SCOPE,
    )
    .with_authority_host(&endpoint.base);
    let err = missing.token_at(NOW_MS).await.unwrap_err();
    assert!(
        err.contains("cannot read the federated token file"),
        "{err}"
    );
    assert_eq!(endpoint.hits(), 2, "nothing sent without a token");
}

#[tokio::test]
async fn tokens_are_cached() {
    let endpoint = Endpoint::start(|n, _| {
        json(
            200,
            &format!(r#"{{"access_token":"tok-{n}","expires_in":3600}}"#),
        )
    })
    .await;
    let provider = client_secret_provider(&endpoint);
    let first = provider.token().await.expect("first");
    let second = provider.token().await.expect("second");
    assert_eq!(first.value(), "tok-1");
    assert_eq!(second.value(), "tok-1");
    assert_eq!(second.lifetime_ms(), first.lifetime_ms());
    assert_eq!(
        endpoint.hits(),
        1,
        "the second call is served from the cache"
    );

    // Concurrent callers share one request.
    let fresh = client_secret_provider(&endpoint);
    let (a, b) = tokio::join!(fresh.token(), fresh.token());
    assert_eq!(a.expect("a").value(), b.expect("b").value());
    assert_eq!(endpoint.hits(), 2);
}

#[tokio::test]
async fn tokens_are_refreshed_near_expiry() {
    let endpoint = Endpoint::start(|n, _| {
        if n <= 2 {
            json(
                200,
                &format!(r#"{{"access_token":"tok-{n}","expires_in":3600}}"#),
            )
        } else {
            json(
                503,
                r#"{"error":"temporarily_unavailable","error_description":"try later"}"#,
            )
        }
    })
    .await;
    let provider = client_secret_provider(&endpoint);
    let t0 = NOW_MS;
    assert_eq!(provider.token_at(t0).await.expect("fetch").value(), "tok-1");
    // 10 minutes left: cached.
    let t = provider.token_at(t0 + 3_000_000).await.expect("cached");
    assert_eq!(t.value(), "tok-1");
    assert_eq!(endpoint.hits(), 1);
    // Less than 5 minutes left: a new token.
    let t1 = t0 + 3_301_000;
    let t = provider.token_at(t1).await.expect("refreshed");
    assert_eq!(t.value(), "tok-2");
    assert_eq!(t.lifetime_ms(), t1 + 3_600_000);
    assert_eq!(endpoint.hits(), 2);
    // The refresh fails while tok-2 is still valid: tok-2 is returned.
    let t = provider
        .token_at(t1 + 3_400_000)
        .await
        .expect("stale but valid");
    assert_eq!(t.value(), "tok-2");
    assert_eq!(endpoint.hits(), 3);
    // Expired and the endpoint still fails: the error.
    let err = provider.token_at(t1 + 3_600_000).await.unwrap_err();
    assert!(err.contains("HTTP 503"), "{err}");
    assert!(err.contains("temporarily_unavailable: try later"), "{err}");
    assert_eq!(endpoint.hits(), 4);
}

#[tokio::test]
async fn entra_errors_are_clear_and_keep_secrets_out() {
    let endpoint = Endpoint::start(|_, r| {
        // An echo of the secret must still not reach the message.
        let echoed = r.form.get("client_secret").cloned().unwrap_or_default();
        json(
            401,
            &format!(
                r#"{{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided ({echoed}).","error_codes":[7000215]}}"#
            ),
        )
    })
    .await;
    let provider = client_secret_provider(&endpoint);
    let err = provider.token().await.unwrap_err();
    assert!(err.contains("HTTP 401 Unauthorized"), "{err}");
    assert!(err.contains("invalid_client"), "{err}");
    assert!(
        err.contains("AADSTS7000215: Invalid client secret provided"),
        "{err}"
    );
    assert!(err.contains("tenant tenant-1, client client-1"), "{err}");
    assert!(err.contains("/tenant-1/oauth2/v2.0/token"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
    assert!(err.contains("<redacted>"), "{err}");
}

#[tokio::test]
async fn oversized_or_garbage_bodies_are_errors() {
    let endpoint = Endpoint::start(|n, _| match n {
        // Declared too large.
        1 => Reply {
            status: 200,
            body: vec![b'{'; MAX_RESPONSE_BYTES + 1],
            content_length: true,
        },
        // No length, read to the end: too large while streaming.
        2 => Reply {
            status: 200,
            body: vec![b'x'; 4 * MAX_RESPONSE_BYTES],
            content_length: false,
        },
        // Garbage within the limit.
        3 => Reply {
            status: 200,
            body: b"\x00\xffnot json at all".to_vec(),
            content_length: false,
        },
        // A token that is not a bearer token.
        4 => json(
            200,
            r#"{"access_token":"a token\r\nwith spaces","expires_in":60}"#,
        ),
        // An error status with an HTML body.
        _ => Reply {
            status: 502,
            body: b"<html>Bad Gateway</html>".to_vec(),
            content_length: true,
        },
    })
    .await;
    let provider = client_secret_provider(&endpoint);
    let mut errors = Vec::new();
    for _ in 0..5 {
        errors.push(provider.token().await.unwrap_err());
    }
    assert!(
        errors[0].contains("larger than 65536 bytes"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("larger than 65536 bytes"),
        "{}",
        errors[1]
    );
    assert!(errors[2].contains("not a JSON object"), "{}", errors[2]);
    assert!(
        errors[3].contains("access_token is unusable"),
        "{}",
        errors[3]
    );
    assert!(!errors[3].contains("with spaces"), "{}", errors[3]);
    assert!(errors[4].contains("HTTP 502"), "{}", errors[4]);
    assert!(errors[4].contains("not JSON"), "{}", errors[4]);
    for e in &errors {
        assert!(!e.contains(SECRET), "{e}");
        assert!(e.len() < 2048, "{e}");
    }
}

#[tokio::test]
async fn unreachable_and_insecure_endpoints_are_errors() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr").port()
    };
    let provider = EntraTokenProvider::managed_identity_with_env(SCOPE.into(), None, &|_| None)
        .with_managed_identity_endpoint(format!("http://127.0.0.1:{port}/token"))
        .with_timeout(Duration::from_secs(5));
    let err = provider.token().await.unwrap_err();
    assert!(
        err.contains(&format!("http://127.0.0.1:{port}/token failed")),
        "{err}"
    );
    assert!(err.contains("managed identity"), "{err}");

    // A client secret is never sent over plain HTTP to another host (no request is
    // made: the check comes first).
    let provider = EntraTokenProvider::client_secret("t", "c", SECRET, SCOPE)
        .with_authority_host("http://login.example.invalid");
    let err = provider.token().await.unwrap_err();
    assert!(err.contains("must be https://"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
}

/// The real thing is HTTPS: a token over TLS from an endpoint whose certificate chains to the
/// CA given with `with_tls_config`; with only the public roots the same endpoint is refused
/// and no secret is sent.
#[tokio::test]
async fn client_credentials_over_https_check_the_certificate() {
    let endpoint = Endpoint::start_https(|_, _| {
        json(
            200,
            r#"{"expires_in":3599,"access_token":"eyJ0eXAi.eyJhdWQi.dGxz"}"#,
        )
    })
    .await;
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(include_bytes!("testdata/ca.pem")) {
        roots.add(ca.expect("test CA")).expect("add the test CA");
    }
    let provider = crate::tls_provider::provider().expect("a tls-* feature");
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let token = client_secret_provider(&endpoint)
        .with_tls_config(tls)
        .token()
        .await
        .expect("token over HTTPS");
    assert_eq!(token.value(), "eyJ0eXAi.eyJhdWQi.dGxz");
    assert_eq!(endpoint.hits(), 1);
    assert_eq!(
        endpoint
            .request(0)
            .form
            .get("client_secret")
            .map(String::as_str),
        Some(SECRET)
    );

    // Mozilla's roots do not include the test CA.
    let err = client_secret_provider(&endpoint).token().await.unwrap_err();
    assert!(
        err.contains("certificate") || err.contains("Certificate"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");
    assert_eq!(endpoint.hits(), 1, "nothing reached the untrusted endpoint");
}
