//! TLS and SASL against Apache Kafka's own SSL, SASL_PLAINTEXT and SASL_SSL listeners, with
//! the CA and certificates `scripts/broker` generates (start it with `KAFKA_SSL=1 KAFKA_SASL=1
//! KAFKA_SSL_CLIENT_AUTH=required`): the right credentials work, wrong ones give a typed
//! authentication error, an untrusted certificate, a wrong host name and a missing client
//! certificate are refused, and produce / consume / a consumer group work over SASL_SSL.

use std::time::Duration;

use integration_tests::{
    connection_error, create_ready_topic, produce_numbered, read_numbered_in_group, unique_topic,
};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::{BrokerAddress, ClientConfig};
use kafka_wire::connection::tls;
use kafka_wire::consumer::{Consumer, ConsumerConfig};
use kafka_wire::error::ConnectionError;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};

struct Env {
    ssl: String,
    sasl: String,
    sasl_ssl: String,
    ca: String,
    cert: String,
    key: String,
    user: String,
    password: String,
}

fn env(test: &str) -> Option<Env> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(ssl), Some(sasl), Some(sasl_ssl), Some(ca), Some(cert), Some(key), Some(users)) = (
        get("KAFKA_WIRE_SSL_BOOTSTRAP"),
        get("KAFKA_WIRE_SASL_BOOTSTRAP"),
        get("KAFKA_WIRE_SASL_SSL_BOOTSTRAP"),
        get("KAFKA_WIRE_SSL_CA"),
        get("KAFKA_WIRE_SSL_CLIENT_CERT"),
        get("KAFKA_WIRE_SSL_CLIENT_KEY"),
        get("KAFKA_WIRE_SASL_USERS"),
    ) else {
        if std::env::var("KAFKA_WIRE_REQUIRE_BROKERS").as_deref() == Ok("1") {
            panic!(
                "{test}: the secured Kafka listeners are not configured (scripts/broker env kafka)"
            );
        }
        eprintln!("SKIPPED {test}: start Kafka with KAFKA_SSL=1 KAFKA_SASL=1 and source `scripts/broker env kafka`");
        return None;
    };
    let first = users.split(',').next().unwrap_or_default();
    let (user, password) = first.split_once(':').expect("name:password");
    integration_tests::init_logging();
    Some(Env {
        ssl,
        sasl,
        sasl_ssl,
        ca,
        cert,
        key,
        user: user.into(),
        password: password.into(),
    })
}

impl Env {
    /// SASL_SSL with SCRAM (`mechanism`) as the test user, trusting the test CA.
    fn scram_over_ssl<'a>(&'a self, mechanism: &'a str) -> [(&'a str, &'a str); 5] {
        [
            ("security.protocol", "SASL_SSL"),
            ("ssl.ca.location", &self.ca),
            ("sasl.mechanism", mechanism),
            ("sasl.username", &self.user),
            ("sasl.password", &self.password),
        ]
    }
}

fn config(bootstrap: &str, props: &[(&str, &str)]) -> ClientConfig {
    let mut c = ClientConfig::new(bootstrap);
    c.set("default.api.timeout.ms", "10000").unwrap();
    for (k, v) in props {
        c.set(k, v).unwrap();
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_with_client_certificate_and_the_refusals() {
    let Some(e) = env("ssl") else { return };
    let mtls = [
        ("security.protocol", "SSL"),
        ("ssl.ca.location", e.ca.as_str()),
        ("ssl.certificate.location", e.cert.as_str()),
        ("ssl.key.location", e.key.as_str()),
    ];
    let admin = Admin::connect(config(&e.ssl, &mtls))
        .await
        .expect("mTLS works");
    let cluster = admin.describe_cluster().await.expect("describe over TLS");
    println!(
        "SSL + client certificate: cluster {:?} with {} broker(s)",
        cluster.cluster_id,
        cluster.brokers.len()
    );

    // No client certificate: the broker (ssl.client.auth=required) ends the handshake.
    let r = Admin::connect(config(&e.ssl, &mtls[..2])).await;
    let err = r.expect_err("no client certificate");
    println!("SSL without a client certificate -> {err}");
    assert!(
        matches!(
            connection_error(&err),
            Some(
                ConnectionError::Tls { .. }
                    | ConnectionError::Io { .. }
                    | ConnectionError::Closed { .. }
            )
        ),
        "{err:?}"
    );

    // Untrusted: the broker's CA is not among the public roots.
    let err = Admin::connect(config(&e.ssl, &[("security.protocol", "SSL")]))
        .await
        .expect_err("untrusted");
    println!("SSL with the public roots only -> {err}");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");

    // The operating system's CA bundle (librdkafka's `probe`) does not know the test CA either.
    let err = Admin::connect(config(
        &e.ssl,
        &[("security.protocol", "SSL"), ("ssl.ca.location", "probe")],
    ))
    .await
    .expect_err("untrusted by the system bundle");
    println!("SSL with ssl.ca.location=probe (system bundle) -> {err}");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");

    // Wrong host name: TCP to the listener, TLS expecting another name.
    let addr: BrokerAddress = BrokerAddress::parse(&e.ssl).unwrap();
    let mut security = config(&e.ssl, &mtls).security;
    let wrong = BrokerAddress {
        host: "not-the-broker.example".into(),
        port: addr.port,
    };
    let tcp = tokio::net::TcpStream::connect((addr.host.as_str(), addr.port))
        .await
        .unwrap();
    let err = tls::connect(
        tcp,
        &wrong,
        tls::client_config(&security, &wrong).unwrap(),
        true,
    )
    .await
    .expect_err("wrong name");
    println!("SSL to a certificate for another name -> {err}");
    assert!(err.to_string().contains("NotValidForName"), "{err}");
    // ... accepted only when hostname verification is explicitly off.
    security.ssl_verify_hostname = false;
    let tcp = tokio::net::TcpStream::connect((addr.host.as_str(), addr.port))
        .await
        .unwrap();
    tls::connect(
        tcp,
        &wrong,
        tls::client_config(&security, &wrong).unwrap(),
        false,
    )
    .await
    .expect("verification off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_mechanisms_with_right_and_wrong_passwords() {
    let Some(e) = env("sasl") else { return };
    let mut table = Vec::new();
    for (protocol, bootstrap) in [("SASL_PLAINTEXT", &e.sasl), ("SASL_SSL", &e.sasl_ssl)] {
        for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
            for (label, password) in [
                ("right", e.password.as_str()),
                ("wrong", "not-the-password"),
            ] {
                let c = config(
                    bootstrap,
                    &[
                        ("security.protocol", protocol),
                        ("ssl.ca.location", e.ca.as_str()),
                        ("sasl.mechanism", mechanism),
                        ("sasl.username", e.user.as_str()),
                        ("sasl.password", password),
                    ],
                );
                let result = match Admin::connect(c).await {
                    Ok(admin) => admin.describe_cluster().await.map(|_| ()),
                    Err(err) => Err(err),
                };
                let outcome = match (&result, label) {
                    (Ok(()), "right") => "ok".to_string(),
                    (Err(err), "wrong") => {
                        assert!(
                            matches!(
                                connection_error(err),
                                Some(ConnectionError::Authentication { .. })
                            ),
                            "{protocol} {mechanism}: {err:?}"
                        );
                        assert!(
                            !err.to_string().contains(password),
                            "the password leaked: {err}"
                        );
                        format!(
                            "refused: {}",
                            connection_error(err)
                                .map(|c| c.to_string())
                                .unwrap_or_default()
                        )
                    }
                    (r, _) => panic!("{protocol} {mechanism} {label} password: {r:?}"),
                };
                table.push(format!(
                    "{protocol:<15} {mechanism:<14} {label} password -> {outcome}"
                ));
            }
        }
    }
    for line in table {
        println!("{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_consume_and_group_over_sasl_ssl() {
    let Some(e) = env("sasl_ssl") else { return };
    let props = e.scram_over_ssl("SCRAM-SHA-512");
    let admin = Admin::connect(config(&e.sasl_ssl, &props)).await.unwrap();
    let topic = unique_topic("sasl-ssl");
    create_ready_topic(&admin, NewTopic::new(&topic, 3, 1)).await;
    let client = config(&e.sasl_ssl, &props);
    const N: usize = 3000;
    produce_numbered(&client, &topic, N).await;
    let (_, distinct) = read_numbered_in_group(&client, &topic, N).await;
    println!(
        "SASL_SSL (SCRAM-SHA-512): produced {N}, group consumer read {distinct} distinct records"
    );
}

/// KIP-368: with the broker's `connections.max.reauth.ms` at a few seconds, a producer and a
/// group consumer run across several re-authentications; nothing is lost or duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthentication_under_load_loses_nothing() {
    let Some(e) = env("reauth") else { return };
    let Some(reauth_ms) = std::env::var("KAFKA_WIRE_REAUTH_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        if std::env::var("KAFKA_WIRE_REQUIRE_BROKERS").as_deref() == Ok("1") {
            panic!("reauth: start Kafka with KAFKA_REAUTH_MS");
        }
        eprintln!("SKIPPED reauth: start Kafka with KAFKA_REAUTH_MS=3000");
        return;
    };
    let props = e.scram_over_ssl("SCRAM-SHA-256");
    let admin = Admin::connect(config(&e.sasl_ssl, &props)).await.unwrap();
    let topic = unique_topic("reauth");
    create_ready_topic(&admin, NewTopic::new(&topic, 2, 1)).await;
    let before = kafka_wire::connection::reauthentications();
    let mut cc = ConsumerConfig::new(&e.sasl_ssl);
    for (k, v) in props {
        cc.set(k, v).unwrap();
    }
    cc.set("group.id", &unique_topic("g-reauth")).unwrap();
    cc.set("auto.offset.reset", "earliest").unwrap();
    let mut consumer = Consumer::connect(cc).await.unwrap();
    consumer.subscribe([topic.clone()]).unwrap();
    let mut pc = ProducerConfig::new(&e.sasl_ssl);
    for (k, v) in props {
        pc.set(k, v).unwrap();
    }
    let producer = Producer::connect(pc).await.unwrap();
    let run_for = Duration::from_millis(reauth_ms * 4);
    let t = topic.clone();
    let sending = tokio::spawn(async move {
        let start = std::time::Instant::now();
        let mut n = 0usize;
        let mut ds = Vec::new();
        while start.elapsed() < run_for {
            ds.push(
                producer
                    .send(ProducerRecord::new(&t).value(n.to_string()))
                    .await
                    .unwrap(),
            );
            n += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        for d in ds {
            d.await
                .expect("every record delivered across re-authentications");
        }
        producer.close().await.unwrap();
        n
    });
    let mut values = Vec::new();
    let start = std::time::Instant::now();
    let sent = loop {
        for r in consumer.poll(Duration::from_millis(200)).await.unwrap() {
            values
                .push(String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned());
        }
        if sending.is_finished() {
            break sending.await.unwrap();
        }
    };
    while values.len() < sent && start.elapsed() < run_for + Duration::from_secs(30) {
        for r in consumer.poll(Duration::from_millis(200)).await.unwrap() {
            values
                .push(String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned());
        }
    }
    consumer.close().await.unwrap();
    let distinct: std::collections::BTreeSet<&String> = values.iter().collect();
    let reauths = kafka_wire::connection::reauthentications() - before;
    println!(
        "re-authentication (connections.max.reauth.ms={reauth_ms}, {:?}): sent {sent}, received {}, duplicates {}, lost {}, re-authentications {reauths}",
        run_for,
        values.len(),
        values.len() - distinct.len(),
        sent - distinct.len()
    );
    assert_eq!(distinct.len(), sent, "nothing lost");
    assert_eq!(values.len(), sent, "nothing duplicated");
    assert!(reauths >= 3, "connections re-authenticated ({reauths})");
}

/// OAUTHBEARER with tokens from the application's provider (here unsigned development JWTs,
/// which Kafka's unsecured validator accepts); an expired token is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauthbearer_with_a_token_provider() {
    use kafka_wire::sasl::{TokenProviderHandle, UnsecuredJwt};
    let Some(e) = env("oauthbearer") else { return };
    let base = [
        ("security.protocol", "SASL_SSL"),
        ("ssl.ca.location", e.ca.as_str()),
        ("sasl.mechanism", "OAUTHBEARER"),
    ];
    // librdkafka's properties for unsigned development tokens.
    let mut c = config(&e.sasl_ssl, &base);
    c.set("enable.sasl.oauthbearer.unsecure.jwt", "true")
        .unwrap();
    c.set("sasl.oauthbearer.config", "principal=alice").unwrap();
    let admin = Admin::connect(c).await.expect("OAUTHBEARER works");
    admin.describe_cluster().await.expect("authenticated");
    println!("SASL_SSL OAUTHBEARER valid token -> ok");
    // Java's spelling, with KIP-342 SASL extensions sent beside the token.
    let mut c = config(&e.sasl_ssl, &base);
    c.set(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
         unsecuredLoginStringClaim_sub=\"alice\" unsecuredLoginExtension_traceId=\"t-42\";",
    )
    .unwrap();
    assert_eq!(
        c.security.sasl_oauthbearer_extensions.get("traceId"),
        Some("t-42")
    );
    let admin = Admin::connect(c)
        .await
        .expect("OAUTHBEARER with extensions works");
    admin.describe_cluster().await.expect("authenticated");
    println!(
        "SASL_SSL OAUTHBEARER valid token + SASL extensions (sasl.jaas.config spelling) -> ok"
    );
    // A provider handing out a token that expired an hour ago.
    let mut c = config(&e.sasl_ssl, &base);
    let stale = UnsecuredJwt {
        principal: "alice".into(),
        lifetime: Duration::from_secs(1),
    };
    struct Expired(UnsecuredJwt);
    impl kafka_wire::sasl::TokenProvider for Expired {
        fn token(
            &self,
        ) -> futures_util::future::BoxFuture<
            '_,
            Result<kafka_wire::sasl::oauthbearer::OAuthBearerToken, String>,
        > {
            Box::pin(async move {
                self.0
                    .token_at(std::time::SystemTime::now() - Duration::from_secs(3600))
            })
        }
    }
    c.security.oauthbearer_token_provider =
        Some(TokenProviderHandle(std::sync::Arc::new(Expired(stale))));
    let err = Admin::connect(c).await.expect_err("expired token");
    println!("SASL_SSL OAUTHBEARER expired token -> {err}");
    assert!(
        matches!(
            connection_error(&err),
            Some(ConnectionError::Authentication { .. })
        ),
        "{err:?}"
    );
    // No provider at all: a clear error naming the fix.
    let err = Admin::connect(config(&e.sasl_ssl, &base))
        .await
        .expect_err("no provider");
    assert!(err.to_string().contains("token provider"), "{err}");
}

/// SCRAM against an independent implementation: tansu with `--authentication`
/// (`scripts/tansu-scram`); right passwords work (and produce/fetch), wrong ones are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_on_tansu() {
    let Ok(bootstrap) = std::env::var("KAFKA_WIRE_TANSU_SCRAM") else {
        if std::env::var("KAFKA_WIRE_REQUIRE_BROKERS").as_deref() == Ok("1") {
            panic!("scram_on_tansu: KAFKA_WIRE_TANSU_SCRAM is not set (scripts/tansu-scram start)");
        }
        eprintln!("SKIPPED scram_on_tansu: scripts/tansu-scram start");
        return;
    };
    integration_tests::init_logging();
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
        for (label, password) in [("right", "alice-secret"), ("wrong", "not-it")] {
            let c = config(
                &bootstrap,
                &[
                    ("security.protocol", "SASL_PLAINTEXT"),
                    ("sasl.mechanism", mechanism),
                    ("sasl.username", "alice"),
                    ("sasl.password", password),
                ],
            );
            let result = Admin::connect(c.clone()).await;
            match (label, result) {
                ("right", Ok(admin)) => {
                    let topic = unique_topic("tansu-scram");
                    create_ready_topic(&admin, NewTopic::new(&topic, 1, 1)).await;
                    let mut pc = ProducerConfig::default();
                    pc.client = c.clone();
                    let producer = Producer::connect(pc).await.unwrap();
                    producer
                        .send(ProducerRecord::new(&topic).partition(0).value("v"))
                        .await
                        .unwrap()
                        .await
                        .unwrap();
                    producer.close().await.unwrap();
                    println!(
                        "tansu SASL_PLAINTEXT {mechanism:<14} right password -> ok (produced)"
                    );
                }
                ("wrong", Err(err)) => {
                    println!("tansu SASL_PLAINTEXT {mechanism:<14} wrong password -> {err}");
                    assert!(
                        matches!(
                            connection_error(&err),
                            Some(ConnectionError::Authentication { .. })
                        ),
                        "{err:?}"
                    );
                }
                (label, other) => panic!("tansu {mechanism} {label}: {other:?}"),
            }
        }
    }
}
