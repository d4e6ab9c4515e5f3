//! `-V`, `-X list` and `-X dump`.

use kafka_wire::config::table::ConfigKey;
use kafka_wire::config::{CLIENT_TABLE, SECURITY_TABLE};
use kafka_wire::consumer::CONSUMER_TABLE;
use kafka_wire::producer::PRODUCER_TABLE;

/// `-V`: what kcat prints, for `kw`.
pub fn version() -> String {
    format!(
        "kw - kcat-compatible Apache Kafka producer and consumer tool\n\
         Version {} (kafka-wire, pure Rust; JSON, Transactions, builtin.features=gzip,snappy,lz4,zstd,ssl,sasl_plain,sasl_scram,sasl_oauthbearer)",
        env!("CARGO_PKG_VERSION")
    )
}

/// `-X list`: the properties `-X` and configuration files accept, by where they apply, with
/// their defaults and what they do (from the library's key tables).
pub fn list() -> String {
    let mut s = String::new();
    section(&mut s, "Client (all modes)", CLIENT_TABLE);
    section(&mut s, "Security (all modes)", SECURITY_TABLE);
    section(&mut s, "Producer (-P)", PRODUCER_TABLE);
    section(&mut s, "Consumer (-C, -G)", CONSUMER_TABLE);
    s += "# librdkafka's metadata.broker.list is accepted as bootstrap.servers\n";
    s
}

fn section<C>(s: &mut String, title: &str, table: &'static [ConfigKey<C>]) {
    *s += &format!("# {title}\n");
    let width = table.iter().map(|k| k.name.len()).max().unwrap_or(0);
    for k in table {
        let default = if k.default.is_empty() {
            String::new()
        } else {
            format!(" (default {})", k.default)
        };
        *s += &format!("{:<width$}  {}{default}\n", k.name, k.doc);
    }
    s.push('\n');
}

/// Whether a property's value must not be printed.
fn is_secret(key: &str) -> bool {
    ["password", "secret", "jaas", "token", "key"]
        .iter()
        .any(|w| key.contains(w))
        && !key.ends_with(".location")
        && !key.ends_with(".type")
}

/// `-X dump`: the properties set (command line, `-F`, `KCAT_CONFIG`, the default file), as
/// kcat's `key = value` lines; secrets are redacted.
pub fn dump(props: &[(String, String)]) -> String {
    let mut s = String::from("# Global config\n");
    for (k, v) in props {
        let v = if is_secret(k) { "[redacted]" } else { v };
        s += &format!("{k} = {v}\n");
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_redacts_secrets() {
        let d = dump(&[
            ("bootstrap.servers".into(), "h:1".into()),
            ("sasl.password".into(), "hunter2".into()),
            ("ssl.key.location".into(), "/k.pem".into()),
        ]);
        assert!(d.contains("bootstrap.servers = h:1\n"));
        assert!(d.contains("sasl.password = [redacted]\n"));
        assert!(d.contains("ssl.key.location = /k.pem\n"));
        assert!(!d.contains("hunter2"));
        assert!(list().contains("linger.ms "));
        assert!(version().contains(env!("CARGO_PKG_VERSION")));
    }
}
