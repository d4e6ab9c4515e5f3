//! SASL on a broker before Kafka 1.0: Apache Kafka 0.11.0.3 (`scripts/legacy-broker start`)
//! has no SaslAuthenticate API, so after SaslHandshake v0 the mechanism's messages travel as
//! raw size-prefixed frames. For PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512: the right password
//! authenticates and a producer and a consumer group move records through the broker; a wrong
//! one is a typed authentication error (the broker just hangs up) without the password in it.

use integration_tests::{
    connection_error, create_ready_topic, produce_numbered, read_numbered_in_group, unique_topic,
};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::{BrokerAddress, ClientConfig};
use kafka_wire::connection::BrokerConnection;
use kafka_wire::error::ConnectionError;
use kafka_wire::protocol::ApiKey;

struct Legacy {
    bootstrap: String,
    user: String,
    password: String,
    version: String,
}

fn legacy() -> Option<Legacy> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(bootstrap), Some(user), Some(password)) = (
        get("KAFKA_WIRE_LEGACY_SASL"),
        get("KAFKA_WIRE_LEGACY_USER"),
        get("KAFKA_WIRE_LEGACY_PASSWORD"),
    ) else {
        if std::env::var("KAFKA_WIRE_REQUIRE_BROKERS").as_deref() == Ok("1") {
            panic!(
                "legacy_sasl: the Kafka 0.11 broker is not configured (scripts/legacy-broker env)"
            );
        }
        eprintln!("SKIPPED legacy_sasl: scripts/legacy-broker start, then source `scripts/legacy-broker env`");
        return None;
    };
    integration_tests::init_logging();
    Some(Legacy {
        bootstrap,
        user,
        password,
        version: get("KAFKA_WIRE_LEGACY_VERSION").unwrap_or_else(|| "0.11".into()),
    })
}

fn config(l: &Legacy, mechanism: &str, password: &str) -> ClientConfig {
    let mut c = ClientConfig::new(&l.bootstrap);
    for (k, v) in [
        ("default.api.timeout.ms", "15000"),
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", mechanism),
        ("sasl.username", l.user.as_str()),
        ("sasl.password", password),
    ] {
        c.set(k, v).unwrap();
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_handshake_v0_with_raw_tokens_on_kafka_0_11() {
    let Some(l) = legacy() else { return };
    let mut table = Vec::new();
    for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let right = config(&l, mechanism, &l.password);
        let admin = Admin::connect(right.clone())
            .await
            .unwrap_or_else(|e| panic!("{mechanism} right password: {e}"));
        let address = BrokerAddress::parse(&l.bootstrap).unwrap();
        let conn = BrokerConnection::connect(&address, &right).await.unwrap();
        assert!(
            conn.api_versions()
                .version(ApiKey::SaslAuthenticate)
                .is_none(),
            "Kafka {} must not offer SaslAuthenticate",
            l.version
        );
        const N: usize = 1000;
        let topic = unique_topic("legacy-sasl");
        create_ready_topic(&admin, NewTopic::new(&topic, 2, 1)).await;
        produce_numbered(&right, &topic, N).await;
        let (read, distinct) = read_numbered_in_group(&right, &topic, N).await;
        assert_eq!(distinct, N);
        table.push(format!(
            "Kafka {} SASL_PLAINTEXT {mechanism:<14} right password -> ok: produced {N}, group read {read} ({distinct} distinct)",
            l.version
        ));

        let wrong_password = "hunter2-not-it";
        let err = Admin::connect(config(&l, mechanism, wrong_password))
            .await
            .err()
            .unwrap_or_else(|| panic!("{mechanism}: a wrong password was accepted"));
        let cause = connection_error(&err);
        assert!(
            matches!(cause, Some(ConnectionError::Authentication { .. })),
            "{mechanism}: {err:?}"
        );
        let text = format!("{err} {err:?}");
        assert!(
            !text.contains(wrong_password),
            "the password leaked: {text}"
        );
        table.push(format!(
            "Kafka {} SASL_PLAINTEXT {mechanism:<14} wrong password -> refused: {}",
            l.version,
            cause.map(|c| c.to_string()).unwrap_or_default()
        ));
    }
    for line in table {
        println!("{line}");
    }
}
