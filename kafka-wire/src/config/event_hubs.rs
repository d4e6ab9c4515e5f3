//! The Azure Event Hubs profile: a complete client configuration from an Event Hubs connection
//! string, in one call ([`ClientConfig::event_hubs`]) or one CLI flag (`kw --event-hubs`).
//!
//! Event Hubs' Kafka endpoint is `<namespace>.servicebus.windows.net:9093`, SASL_SSL only,
//! with SASL PLAIN whose user name is the literal `$ConnectionString` and whose password is the
//! whole connection string. On top of that the profile changes these defaults, following
//! Microsoft's "Recommended configurations for Apache Kafka clients" for Event Hubs:
//!
//! | setting | default | profile | why |
//! |---|---|---|---|
//! | `connections.max.idle.ms` | 540 000 | 180 000 | Azure closes TCP connections idle for 240 s; a client must close them first or it sends into dead sockets |
//! | `metadata.max.age.ms` | 300 000 | 180 000 | kept below 240 s for the same reason |
//! | `request.timeout.ms` | 30 000 | 60 000 | Event Hubs uses at least 20 000 internally; Microsoft recommends 60 000 |
//! | `max.request.size` (producer) | 1 048 576 | 1 000 000 | the service closes the connection on requests above 1 046 528 bytes |
//! | `session.timeout.ms` (consumer) | 45 000 | 45 000 | already above the recommended 30 000 |
//!
//! What the profile cannot paper over — Event Hubs feature gaps an application must know: no
//! topic creation through the admin API on the Standard tier beyond the namespace's event-hub
//! limit, transactions only on Premium/Dedicated (in preview), no log compaction on Standard,
//! and throttling reported through `throttle_time_ms` (KIP-219), which the client honours.

use super::{BrokerAddress, ClientConfig, ConfigError};
use crate::config::security::{Secret, SecurityProtocol};
use crate::sasl::Mechanism;
use std::time::Duration;

/// The largest request Event Hubs accepts; larger ones close the connection.
pub const EVENT_HUBS_MAX_REQUEST_BYTES: usize = 1_046_528;
/// Azure closes connections idle for this long.
pub const EVENT_HUBS_IDLE_CLOSE: Duration = Duration::from_secs(240);

/// An Event Hubs connection string:
/// `Endpoint=sb://NAMESPACE.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…[;EntityPath=…]`.
#[derive(Clone, PartialEq, Eq)]
pub struct EventHubsConnectionString {
    /// The namespace host, e.g. `mynamespace.servicebus.windows.net`.
    pub host: String,
    /// `SharedAccessKeyName`.
    pub key_name: String,
    /// `EntityPath`: the event hub (topic) the string is scoped to, if any.
    pub entity_path: Option<String>,
    whole: Secret,
}

impl std::fmt::Debug for EventHubsConnectionString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHubsConnectionString")
            .field("host", &self.host)
            .field("key_name", &self.key_name)
            .field("entity_path", &self.entity_path)
            .field("key", &"<redacted>")
            .finish()
    }
}

fn bad(expected: &str) -> ConfigError {
    ConfigError::InvalidValue {
        key: "event hubs connection string".into(),
        value: "<redacted>".into(),
        expected: expected.into(),
    }
}

impl EventHubsConnectionString {
    /// Parse a connection string as the Azure portal shows it.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let s = s.trim();
        let mut endpoint = None;
        let mut key_name = None;
        let mut key = None;
        let mut entity_path = None;
        for part in s.split(';').filter(|p| !p.trim().is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(bad("Key=Value pairs separated by ';'"));
            };
            match k.trim() {
                "Endpoint" => endpoint = Some(v.trim().to_owned()),
                "SharedAccessKeyName" => key_name = Some(v.trim().to_owned()),
                "SharedAccessKey" => key = Some(v.trim().to_owned()),
                "EntityPath" => entity_path = Some(v.trim().to_owned()),
                _ => {} // other keys (e.g. UseDevelopmentEmulator) are passed through untouched
            }
        }
        let endpoint = endpoint
            .ok_or_else(|| bad("an Endpoint=sb://NAMESPACE.servicebus.windows.net/ part"))?;
        let host = endpoint
            .strip_prefix("sb://")
            .ok_or_else(|| bad("Endpoint to start with sb://"))?
            .trim_end_matches('/')
            .to_owned();
        if host.is_empty() || host.contains('/') || host.contains(':') {
            return Err(bad("Endpoint=sb://NAMESPACE.servicebus.windows.net/"));
        }
        let key_name = key_name.ok_or_else(|| bad("a SharedAccessKeyName part"))?;
        if key.as_deref().is_none_or(str::is_empty) {
            return Err(bad("a SharedAccessKey part"));
        }
        Ok(EventHubsConnectionString {
            host,
            key_name,
            entity_path,
            whole: Secret::new(s),
        })
    }

    /// The Kafka bootstrap address: the namespace host on port 9093.
    pub fn bootstrap(&self) -> BrokerAddress {
        BrokerAddress {
            host: self.host.clone(),
            port: 9093,
        }
    }
}

impl ClientConfig {
    /// A complete configuration for Azure Event Hubs' Kafka endpoint from a connection string
    /// (see the [module docs](self) for every setting it changes and why).
    ///
    /// ```
    /// use kafka_wire::config::ClientConfig;
    /// let c = ClientConfig::event_hubs(
    ///     "Endpoint=sb://demo.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=abc=",
    /// )?;
    /// assert_eq!(c.bootstrap_servers[0].to_string(), "demo.servicebus.windows.net:9093");
    /// # Ok::<(), kafka_wire::config::ConfigError>(())
    /// ```
    pub fn event_hubs(connection_string: &str) -> Result<ClientConfig, ConfigError> {
        let cs = EventHubsConnectionString::parse(connection_string)?;
        let mut c = ClientConfig {
            bootstrap_servers: vec![cs.bootstrap()],
            ..ClientConfig::default()
        };
        c.security.protocol = SecurityProtocol::SaslSsl;
        c.security.sasl_mechanism = Mechanism::Plain;
        c.security.sasl_username = Some("$ConnectionString".into());
        c.security.sasl_password = Some(cs.whole.clone());
        c.security.ssl_verify_hostname = true;
        c.connections_max_idle = Duration::from_millis(180_000);
        c.metadata_max_age = Duration::from_millis(180_000);
        c.request_timeout = Duration::from_millis(60_000);
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CS: &str = "Endpoint=sb://my-ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=s3cr3t+key=;EntityPath=orders";

    #[test]
    fn parses_and_builds_the_profile() {
        let cs = EventHubsConnectionString::parse(CS).expect("parses");
        assert_eq!(cs.host, "my-ns.servicebus.windows.net");
        assert_eq!(cs.entity_path.as_deref(), Some("orders"));
        let c = ClientConfig::event_hubs(CS).expect("profile");
        assert_eq!(
            c.bootstrap_servers[0].to_string(),
            "my-ns.servicebus.windows.net:9093"
        );
        assert_eq!(c.security.protocol, SecurityProtocol::SaslSsl);
        assert_eq!(
            c.security.sasl_username.as_deref(),
            Some("$ConnectionString")
        );
        assert_eq!(
            c.security.sasl_password.as_ref().map(Secret::expose),
            Some(CS)
        );
        assert!(c.connections_max_idle < EVENT_HUBS_IDLE_CLOSE);
        assert!(c.metadata_max_age < EVENT_HUBS_IDLE_CLOSE);
        assert!(c.request_timeout > Duration::from_millis(20_000));
        assert!(
            !format!("{c:?}").contains("s3cr3t"),
            "the key leaks in Debug"
        );
        assert!(!format!("{cs:?}").contains("s3cr3t"));
    }

    #[test]
    fn rejects_malformed_strings_without_echoing_them() {
        for s in [
            "",
            "Endpoint=https://x/;SharedAccessKeyName=a;SharedAccessKey=b",
            "Endpoint=sb://x/;SharedAccessKey=b",
            "Endpoint=sb://x/;SharedAccessKeyName=a",
            "garbage-with-secret",
        ] {
            let e = EventHubsConnectionString::parse(s).expect_err(s);
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }
}
