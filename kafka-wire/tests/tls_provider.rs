//! The TLS crypto provider this build was compiled with, against Apache Kafka's SSL (mutual
//! TLS) and SASL_SSL listeners. The integration tests use `tls-graviola`; `scripts/test` runs
//! this file once more with only `tls-rustcrypto`:
//!
//! ```text
//! cargo test -p kafka-wire --no-default-features --features tls-rustcrypto --test tls_provider
//! ```
//!
//! Needs the variables of `scripts/broker env kafka` (a broker started with `KAFKA_SSL=1
//! KAFKA_SASL=1`); skipped without them.
#![cfg(any(
    feature = "tls-graviola",
    feature = "tls-rustcrypto",
    feature = "tls-ring",
    feature = "tls-aws-lc-rs"
))]

use kafka_wire::config::{BrokerAddress, ClientConfig};
use kafka_wire::connection::BrokerConnection;
use kafka_wire::error::ConnectionError;
use kafka_wire::protocol::messages::MetadataRequest;

fn provider_feature() -> &'static str {
    if cfg!(feature = "tls-graviola") {
        "tls-graviola"
    } else if cfg!(feature = "tls-rustcrypto") {
        "tls-rustcrypto"
    } else if cfg!(feature = "tls-ring") {
        "tls-ring"
    } else {
        "tls-aws-lc-rs"
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn metadata(bootstrap: &str, props: &[(&str, &str)]) -> Result<usize, ConnectionError> {
    let mut config = ClientConfig::new(bootstrap);
    for (k, v) in props {
        config.set(k, v).expect("valid property");
    }
    let addr = BrokerAddress::parse(bootstrap).expect("host:port");
    let conn = BrokerConnection::connect(&addr, &config).await?;
    let md = conn.send(&MetadataRequest::default()).await?;
    Ok(md.brokers.len())
}

#[tokio::test]
async fn this_builds_provider_speaks_tls_to_kafka() {
    let (Some(ssl), Some(sasl_ssl), Some(ca), Some(cert), Some(key), Some(users)) = (
        var("KAFKA_WIRE_SSL_BOOTSTRAP"),
        var("KAFKA_WIRE_SASL_SSL_BOOTSTRAP"),
        var("KAFKA_WIRE_SSL_CA"),
        var("KAFKA_WIRE_SSL_CLIENT_CERT"),
        var("KAFKA_WIRE_SSL_CLIENT_KEY"),
        var("KAFKA_WIRE_SASL_USERS"),
    ) else {
        if var("KAFKA_WIRE_REQUIRE_BROKERS").as_deref() == Some("1") {
            panic!("tls_provider: the secured Kafka listeners are not configured");
        }
        eprintln!("SKIPPED tls_provider: start Kafka with KAFKA_SSL=1 KAFKA_SASL=1 and source `scripts/broker env kafka`");
        return;
    };
    let first = users.split(',').next().unwrap_or_default();
    let (user, password) = first.split_once(':').expect("name:password");
    let feature = provider_feature();

    let brokers = metadata(
        &ssl,
        &[
            ("security.protocol", "SSL"),
            ("ssl.ca.location", &ca),
            ("ssl.certificate.location", &cert),
            ("ssl.key.location", &key),
        ],
    )
    .await
    .unwrap_or_else(|e| panic!("{feature}: SSL with a client certificate: {e}"));
    println!("{feature}: SSL (mutual TLS) -> ok, metadata names {brokers} broker(s)");

    let brokers = metadata(
        &sasl_ssl,
        &[
            ("security.protocol", "SASL_SSL"),
            ("ssl.ca.location", &ca),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", user),
            ("sasl.password", password),
        ],
    )
    .await
    .unwrap_or_else(|e| panic!("{feature}: SASL_SSL SCRAM-SHA-512: {e}"));
    println!("{feature}: SASL_SSL SCRAM-SHA-512 -> ok, metadata names {brokers} broker(s)");

    // The test CA is not among the operating system's roots: the handshake must fail.
    let err = metadata(
        &sasl_ssl,
        &[
            ("security.protocol", "SASL_SSL"),
            ("ssl.ca.location", "probe"),
        ],
    )
    .await
    .expect_err("an untrusted certificate must be refused");
    assert!(matches!(err, ConnectionError::Tls { .. }), "{err:?}");
    println!("{feature}: untrusted certificate -> refused: {err}");
}
