//! The key tables are the one source of each client's keys: their defaults are the structs'
//! defaults, and `docs/configuration.md` is generated from them.
//!
//! Regenerate the document with `KAFKA_WIRE_WRITE_DOCS=1 cargo test -p kafka-wire --test config_tables`.

use kafka_wire::config::table::{self, ConfigKey, Configurable};
use kafka_wire::config::{ClientConfig, SecurityConfig, CLIENT_TABLE, SECURITY_TABLE};
use kafka_wire::consumer::{ConsumerConfig, CONSUMER_TABLE};
use kafka_wire::producer::{ProducerConfig, PRODUCER_TABLE};

fn defaults_match<C>(name: &str, rows: &'static [ConfigKey<C>], default: &C) {
    for row in rows {
        assert_eq!(
            (row.get)(default),
            row.default,
            "{name}: the table's default of {} differs from the struct's",
            row.name
        );
    }
}

#[test]
fn table_defaults_are_the_struct_defaults() {
    defaults_match("client", CLIENT_TABLE, &ClientConfig::default());
    defaults_match("security", SECURITY_TABLE, &SecurityConfig::default());
    defaults_match("producer", PRODUCER_TABLE, &ProducerConfig::default());
    defaults_match("consumer", CONSUMER_TABLE, &ConsumerConfig::default());
}

#[test]
fn setting_a_default_changes_nothing() {
    for row in PRODUCER_TABLE.iter().filter(|r| !r.default.is_empty()) {
        let mut c = ProducerConfig::default();
        c.set(row.name, row.default).unwrap();
        assert_eq!(c.dump(), ProducerConfig::default().dump(), "{}", row.name);
    }
    for row in CONSUMER_TABLE.iter().filter(|r| !r.default.is_empty()) {
        let mut c = ConsumerConfig::default();
        c.set(row.name, row.default).unwrap();
        assert_eq!(c.dump(), ConsumerConfig::default().dump(), "{}", row.name);
    }
}

#[test]
fn every_key_is_settable_through_its_client() {
    assert!(ProducerConfig::key_names()
        .into_iter()
        .all(ProducerConfig::owns));
    assert!(ConsumerConfig::key_names()
        .into_iter()
        .all(ConsumerConfig::owns));
    assert!(ClientConfig::key_names().all(|k| ProducerConfig::owns(k) && ConsumerConfig::owns(k)));
    let mut c = ConsumerConfig::default();
    let e = c.set("linger.ms", "5").unwrap_err();
    assert!(
        e.to_string()
            .contains("unknown configuration key \"linger.ms\""),
        "{e}"
    );
}

fn document() -> String {
    format!(
        "# Configuration keys\n\n\
         Generated from the key tables in `kafka-wire` (`config/keys.rs`, `config/security.rs`, \
         `producer/config.rs`, `consumer/config.rs`) by `kafka-wire/tests/config_tables.rs`; \
         regenerate with `KAFKA_WIRE_WRITE_DOCS=1 cargo test -p kafka-wire --test config_tables`.\n\n\
         Names are the Java client's (librdkafka's where Java has none). Every client takes the \
         client and security keys; `set` refuses any other key with the list of known ones, and \
         `try_set`/`owns` let a higher layer hold the clients' keys beside its own \
         (`kafka_wire::layered`, with Kafka Streams' `consumer.`, `producer.`, `admin.`, \
         `main.consumer.`, `restore.consumer.` and `global.consumer.` prefixes).\n\n\
         ## Every client\n\n{}\n## Security (TLS, SASL)\n\n{}\n## Producer\n\n{}\n## Consumer\n\n{}",
        table::markdown(CLIENT_TABLE),
        table::markdown(SECURITY_TABLE),
        table::markdown(PRODUCER_TABLE),
        table::markdown(CONSUMER_TABLE),
    )
}

#[test]
fn configuration_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
    let want = document();
    if std::env::var_os("KAFKA_WIRE_WRITE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/configuration.md is out of date: run KAFKA_WIRE_WRITE_DOCS=1 cargo test -p kafka-wire --test config_tables"
    );
}
