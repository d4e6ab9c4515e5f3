use super::*;

const NOW_MS: i64 = 1_700_000_000_000;

#[test]
fn event_hubs_scope_accepts_hosts_addresses_and_names() {
    let scope = "https://ns.servicebus.windows.net/.default";
    for input in [
        "ns.servicebus.windows.net",
        " ns.servicebus.windows.net ",
        "ns.servicebus.windows.net:9093",
        "sb://ns.servicebus.windows.net/",
        "https://ns.servicebus.windows.net/hub",
        "ns",
    ] {
        assert_eq!(event_hubs_scope(input), scope, "{input}");
    }
    assert_eq!(
        event_hubs_scope("ns.servicebus.chinacloudapi.cn"),
        "https://ns.servicebus.chinacloudapi.cn/.default"
    );
}

#[test]
fn parses_expires_in_as_number_or_string_and_expires_on() {
    let t = parse_token_response(br#"{"access_token":"a.b.c","expires_in":3600}"#, NOW_MS)
        .expect("number");
    assert_eq!(t.token.value(), "a.b.c");
    assert_eq!(t.token.lifetime_ms(), NOW_MS + 3_600_000);
    assert_eq!(t.refresh_at_ms, NOW_MS + 3_300_000, "5 minutes early");

    let t = parse_token_response(
        br#"{"access_token":"x","expires_in":"600","expires_on":"1"}"#,
        NOW_MS,
    )
    .expect("string; expires_in wins");
    assert_eq!(t.token.lifetime_ms(), NOW_MS + 600_000);
    assert_eq!(
        t.refresh_at_ms,
        NOW_MS + 480_000,
        "20 % of 10 minutes early"
    );

    let t = parse_token_response(br#"{"access_token":"x","expires_on":1700007200}"#, NOW_MS)
        .expect("expires_on");
    assert_eq!(t.token.lifetime_ms(), 1_700_007_200_000);

    let t = parse_token_response(
        br#"{"access_token":"x","expires_in":86400,"refresh_in":43200}"#,
        NOW_MS,
    )
    .expect("refresh_in");
    assert_eq!(t.refresh_at_ms, NOW_MS + 43_200_000);

    let t = parse_token_response(br#"{"access_token":"x","expires_in":1e300}"#, NOW_MS)
        .expect("huge saturates");
    assert_eq!(t.token.lifetime_ms(), i64::MAX);
}

#[test]
fn rejects_bad_token_responses_without_echoing_the_token() {
    for (body, expected) in [
        (&br#"{"expires_in":3600}"#[..], "no access_token"),
        (
            br#"{"access_token":"","expires_in":3600}"#,
            "no access_token",
        ),
        (br#"{"access_token":"x"}"#, "no expires_in or expires_on"),
        (
            br#"{"access_token":"x","expires_in":-5}"#,
            "expires_in is not",
        ),
        (
            br#"{"access_token":"x","expires_in":"soon"}"#,
            "expires_in is not",
        ),
        (
            br#"{"access_token":"x","expires_on":[1]}"#,
            "expires_on is not",
        ),
        (
            br#"{"access_token":"sec ret tok","expires_in":1}"#,
            "unusable",
        ),
        (br#"["access_token"]"#, "not a JSON object"),
        (b"<html>nope</html>", "not a JSON object"),
        (b"", "not a JSON object"),
        (&[0xff, 0xfe, 0x00][..], "not a JSON object"),
    ] {
        let err = parse_token_response(body, NOW_MS)
            .err()
            .unwrap_or_else(|| panic!("accepted {body:?}"));
        assert!(err.contains(expected), "{err}");
        assert!(!err.contains("sec ret"), "{err}");
    }
    let deep = "[".repeat(100_000);
    assert!(parse_token_response(deep.as_bytes(), NOW_MS).is_err());
}

#[test]
fn error_details_name_error_and_description() {
    assert_eq!(
        error_details(br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret.\r\nTrace ID: 1"}"#),
        ": invalid_client: AADSTS7000215: Invalid client secret.\\r\\nTrace ID: 1"
    );
    assert_eq!(
        error_details(br#"{"statusCode":400,"message":"No identity"}"#),
        ": No identity"
    );
    assert_eq!(error_details(b""), "");
    assert_eq!(error_details(b"<html/>"), " (the 7-byte body is not JSON)");
}

#[test]
fn token_urls_require_https_except_on_loopback() {
    let url = token_url(
        "https://login.microsoftonline.com/",
        "contoso.onmicrosoft.com",
    )
    .expect("https");
    assert_eq!(
        url.as_str(),
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    for host in [
        "http://127.0.0.1:8080",
        "http://localhost",
        "http://[::1]:1",
    ] {
        token_url(host, "t").unwrap_or_else(|e| panic!("{host}: {e}"));
    }
    let err = token_url("http://login.example", "t").unwrap_err();
    assert!(err.contains("must be https://"), "{err}");
    for tenant in ["", "a/b", "t?x=1", "../x y"] {
        let err = token_url(DEFAULT_AUTHORITY_HOST, tenant).unwrap_err();
        assert!(err.contains("invalid tenant id"), "{err}");
    }
}

fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn from_env_follows_default_azure_credential_order() {
    let scope = || event_hubs_scope("ns");
    let p = EntraTokenProvider::from_env_with(
        scope(),
        &env_of(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s3cr3t-value"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
            ("AZURE_AUTHORITY_HOST", "login.microsoftonline.us"),
        ]),
    )
    .expect("client secret");
    let debug = format!("{p:?}");
    assert!(debug.contains("client secret"), "{debug}");
    assert!(
        debug.contains("https://login.microsoftonline.us"),
        "{debug}"
    );
    assert!(!debug.contains("s3cr3t"), "{debug}");

    let p = EntraTokenProvider::from_env_with(
        scope(),
        &env_of(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
        ]),
    )
    .expect("workload identity");
    let debug = format!("{p:?}");
    assert!(debug.contains("workload identity"), "{debug}");
    assert!(debug.contains(DEFAULT_AUTHORITY_HOST), "{debug}");

    let err = EntraTokenProvider::from_env_with(
        scope(),
        &env_of(&[("AZURE_FEDERATED_TOKEN_FILE", "/f")]),
    )
    .unwrap_err();
    assert!(
        err.contains("AZURE_TENANT_ID, AZURE_CLIENT_ID not set"),
        "{err}"
    );
    let err = EntraTokenProvider::from_env_with(
        scope(),
        &env_of(&[
            ("AZURE_CLIENT_SECRET", "s3cr3t-value"),
            ("AZURE_CLIENT_ID", "c"),
        ]),
    )
    .unwrap_err();
    assert!(err.contains("variable AZURE_TENANT_ID not set"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");

    let p = EntraTokenProvider::from_env_with(scope(), &env_of(&[("AZURE_CLIENT_ID", "uai")]))
        .expect("managed identity");
    let debug = format!("{p:?}");
    assert!(debug.contains("managed identity"), "{debug}");
    assert!(debug.contains("uai"), "{debug}");
    assert!(debug.contains(IMDS_ENDPOINT), "{debug}");
    assert!(
        debug.contains("\"https://ns.servicebus.windows.net\""),
        "{debug}"
    );
}

/// The HTTP tests build the client with TLS, so they need a crypto provider.
#[cfg(any(
    feature = "tls-graviola",
    feature = "tls-rustcrypto",
    feature = "tls-ring",
    feature = "tls-aws-lc-rs"
))]
mod http {
    use super::super::*;
    use super::NOW_MS;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

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
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let base = format!("http://{}", listener.local_addr().expect("addr"));
            let requests = Arc::new(Mutex::new(Vec::new()));
            let hits = Arc::new(AtomicUsize::new(0));
            let reply = Arc::new(reply);
            let (requests2, hits2) = (requests.clone(), hits.clone());
            tokio::spawn(async move {
                // At most 50 connections: the tests make a handful.
                for _ in 0..50 {
                    let Ok((mut stream, _)) = listener.accept().await else {
                        return;
                    };
                    let (reply, requests, hits) = (reply.clone(), requests2.clone(), hits2.clone());
                    tokio::spawn(async move {
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

    async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Request> {
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
}
