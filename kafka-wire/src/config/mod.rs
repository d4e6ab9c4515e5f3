//! Client configuration under Kafka's own property names.
//!
//! [`ClientConfig`] accepts the Java client's keys as strings ([`ClientConfig::set`], as from a
//! properties file or kcat's `-X key=value`) and has typed builder methods for the same
//! settings. An unknown key or a bad value is a [`ConfigError`] that names the key and what
//! would have been accepted.
//!
//! ```
//! use kafka_wire::config::ClientConfig;
//! use std::time::Duration;
//!
//! let mut config = ClientConfig::new("127.0.0.1:9092");
//! config.set("client.id", "billing")?.set("request.timeout.ms", "15000")?;
//! let config = config.metadata_max_age(Duration::from_secs(60));
//! assert_eq!(config.request_timeout, Duration::from_secs(15));
//! # Ok::<(), kafka_wire::config::ConfigError>(())
//! ```

pub mod event_hubs;
mod keys;
pub mod security;
pub mod table;

pub use keys::CLIENT_TABLE;
pub use security::{Secret, SecurityConfig, SecurityProtocol, SECURITY_TABLE};

use std::time::Duration;

/// A configuration key or value that is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key this client does not know.
    #[error("unknown configuration key {key:?}; known keys are: {known}")]
    UnknownKey {
        /// The key given.
        key: String,
        /// The accepted keys, comma separated.
        known: String,
    },
    /// A value that does not parse or is out of range.
    #[error("invalid value {value:?} for {key}: expected {expected}")]
    InvalidValue {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
}

/// One `host:port` bootstrap address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BrokerAddress {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl std::fmt::Display for BrokerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl BrokerAddress {
    /// Parse `host:port` (IPv6 as `[::1]:9092`); the port defaults to 9092.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty address".into());
        }
        let s = s.strip_prefix("PLAINTEXT://").unwrap_or(s);
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, p) = rest.split_once(']').ok_or("missing ']' in IPv6 address")?;
            (h, p.strip_prefix(':'))
        } else {
            match s.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (s, None),
            }
        };
        let port = match port {
            Some(p) => p.parse::<u16>().map_err(|_| format!("bad port {p:?}"))?,
            None => 9092,
        };
        if host.is_empty() {
            return Err("empty host".into());
        }
        Ok(BrokerAddress {
            host: host.to_owned(),
            port,
        })
    }
}

/// Settings shared by every client: connections, metadata and request handling.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// `bootstrap.servers`: where to fetch the first metadata from.
    pub bootstrap_servers: Vec<BrokerAddress>,
    /// `client.id`: sent with every request, shown in broker logs and quotas.
    pub client_id: String,
    /// `request.timeout.ms` (default 30 000): how long to wait for one response.
    pub request_timeout: Duration,
    /// `socket.connection.setup.timeout.ms` (default 10 000): TCP connect timeout.
    pub connection_setup_timeout: Duration,
    /// `metadata.max.age.ms` (default 300 000): refresh metadata at least this often.
    pub metadata_max_age: Duration,
    /// `connections.max.idle.ms` (default 540 000): close connections idle this long.
    pub connections_max_idle: Duration,
    /// `reconnect.backoff.ms` (default 50): first delay before reconnecting to a broker.
    pub reconnect_backoff: Duration,
    /// `reconnect.backoff.max.ms` (default 1 000): cap of the exponential reconnect delay.
    pub reconnect_backoff_max: Duration,
    /// `retry.backoff.ms` (default 100): delay before retrying a failed request.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms` (default 1 000): cap of the exponential retry delay (KIP-580).
    pub retry_backoff_max: Duration,
    /// `default.api.timeout.ms` (default 60 000): overall bound for an operation with retries.
    pub default_api_timeout: Duration,
    /// `receive.message.max.bytes` (default 100 000 000, librdkafka's name): the largest
    /// response frame accepted; a larger one fails the connection with an error naming this key.
    pub receive_message_max_bytes: usize,
    /// `security.protocol`, `ssl.*` and `sasl.*`.
    pub security: SecurityConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            bootstrap_servers: Vec::new(),
            client_id: "kafka-wire".to_owned(),
            request_timeout: Duration::from_millis(30_000),
            connection_setup_timeout: Duration::from_millis(10_000),
            metadata_max_age: Duration::from_millis(300_000),
            connections_max_idle: Duration::from_millis(540_000),
            reconnect_backoff: Duration::from_millis(50),
            reconnect_backoff_max: Duration::from_millis(1_000),
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1_000),
            default_api_timeout: Duration::from_millis(60_000),
            receive_message_max_bytes: 100_000_000,
            security: SecurityConfig::new(),
        }
    }
}

impl table::Configurable for ClientConfig {
    fn try_set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        ClientConfig::try_set(self, key, value)
    }
    fn owns(key: &str) -> bool {
        ClientConfig::owns(key)
    }
    fn key_names() -> Vec<&'static str> {
        ClientConfig::key_names().collect()
    }
    fn dump(&self) -> Vec<(&'static str, String)> {
        ClientConfig::dump(self)
    }
}

impl ClientConfig {
    /// A configuration with `bootstrap.servers` set (comma-separated) and defaults elsewhere.
    /// Addresses that do not parse are reported when the client starts; use
    /// [`ClientConfig::set`] to get the error right away.
    pub fn new(bootstrap_servers: &str) -> Self {
        let mut c = ClientConfig::default();
        let _ = c.set("bootstrap.servers", bootstrap_servers);
        c
    }

    /// Build from `(key, value)` pairs, failing on the first bad one.
    pub fn from_properties<'a>(
        props: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ConfigError> {
        let mut c = ClientConfig::default();
        for (k, v) in props {
            c.set(k, v)?;
        }
        Ok(c)
    }

    /// Set one property by its Kafka name; an unknown key is an error listing the known ones.
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Self, ConfigError> {
        table::Configurable::set_known(self, key, value)?;
        Ok(self)
    }

    /// Set `key` if it is one of this client's keys: `Ok(false)` when it is not (a higher layer
    /// holding its own keys beside the client's decides what that means); a bad value is an
    /// error either way.
    pub fn try_set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        Ok(table::set(CLIENT_TABLE, self, key, value)?
            || table::set(SECURITY_TABLE, &mut self.security, key, value)?)
    }

    /// Whether `key` is one of the keys every client takes.
    pub fn owns(key: &str) -> bool {
        table::find(CLIENT_TABLE, key).is_some() || table::find(SECURITY_TABLE, key).is_some()
    }

    /// Every key every client takes.
    pub fn key_names() -> impl Iterator<Item = &'static str> {
        CLIENT_TABLE
            .iter()
            .map(|k| k.name)
            .chain(SECURITY_TABLE.iter().map(|k| k.name))
    }

    /// Every key with its current value (secrets redacted), as kcat's `-X dump` prints them.
    pub fn dump(&self) -> Vec<(&'static str, String)> {
        let mut out = table::dump(CLIENT_TABLE, self);
        out.extend(table::dump(SECURITY_TABLE, &self.security));
        out
    }

    /// `client.id`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = id.into();
        self
    }

    /// `request.timeout.ms`.
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }

    /// `metadata.max.age.ms`.
    pub fn metadata_max_age(mut self, d: Duration) -> Self {
        self.metadata_max_age = d;
        self
    }

    /// `connections.max.idle.ms`.
    pub fn connections_max_idle(mut self, d: Duration) -> Self {
        self.connections_max_idle = d;
        self
    }

    /// `reconnect.backoff.ms` and `reconnect.backoff.max.ms`.
    pub fn reconnect_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.reconnect_backoff = initial;
        self.reconnect_backoff_max = max;
        self
    }

    /// `receive.message.max.bytes`.
    pub fn receive_message_max_bytes(mut self, n: usize) -> Self {
        self.receive_message_max_bytes = n;
        self
    }

    /// Check cross-field constraints; called when a client is built.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.bootstrap_servers.is_empty() {
            return Err(ConfigError::InvalidValue {
                key: "bootstrap.servers".into(),
                value: String::new(),
                expected: "at least one host:port".into(),
            });
        }
        if self.reconnect_backoff_max < self.reconnect_backoff {
            return Err(ConfigError::InvalidValue {
                key: "reconnect.backoff.max.ms".into(),
                value: self.reconnect_backoff_max.as_millis().to_string(),
                expected: format!(
                    "a value >= reconnect.backoff.ms ({})",
                    self.reconnect_backoff.as_millis()
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_property_names_are_accepted() {
        let c = ClientConfig::from_properties([
            ("bootstrap.servers", "a:1, b:2,[::1]:3"),
            ("client.id", "x"),
            ("request.timeout.ms", "1234"),
            ("metadata.max.age.ms", "5000"),
            ("connections.max.idle.ms", "6000"),
            ("reconnect.backoff.ms", "10"),
            ("reconnect.backoff.max.ms", "20"),
        ])
        .unwrap();
        assert_eq!(c.bootstrap_servers.len(), 3);
        assert_eq!(c.bootstrap_servers[2].host, "::1");
        assert_eq!(c.request_timeout, Duration::from_millis(1234));
        assert_eq!(c.reconnect_backoff_max, Duration::from_millis(20));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let mut c = ClientConfig::default();
        let e = c.set("request.timeout", "1").unwrap_err();
        assert!(e.to_string().contains("request.timeout.ms"), "{e}");
        let e = c.set("request.timeout.ms", "soon").unwrap_err();
        assert!(
            e.to_string().contains("request.timeout.ms") && e.to_string().contains("milliseconds"),
            "{e}"
        );
        let e = c.set("bootstrap.servers", "host:port").unwrap_err();
        assert!(e.to_string().contains("bootstrap.servers"), "{e}");
    }
}
