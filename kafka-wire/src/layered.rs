//! A higher layer's settings with the clients' keys held beside its own, as Kafka Streams holds
//! them: one set of properties, where an unprefixed key goes to every client that takes it and
//! a prefixed key (`consumer.`, `producer.`, `admin.`, `main.consumer.`, `restore.consumer.`,
//! `global.consumer.`) to one client only, overriding the unprefixed value.
//!
//! Unknown keys stay errors, at the layer that owns the properties: [`LayeredConfig::check`]
//! takes the higher layer's own key test and refuses a key that neither it nor any client
//! takes, and a prefixed key its client does not take.
//!
//! ```
//! use kafka_wire::layered::{ConsumerRole, LayeredConfig};
//!
//! let mut props = LayeredConfig::new();
//! props
//!     .set("application.id", "billing") // the higher layer's own key
//!     .set("bootstrap.servers", "127.0.0.1:9092") // every client
//!     .set("consumer.max.poll.records", "100") // every consumer
//!     .set("restore.consumer.max.poll.records", "1000") // the restore consumer only
//!     .set("producer.linger.ms", "20"); // the producer only
//! props.check(|key| key == "application.id")?;
//! let main = props.consumer(ConsumerRole::Main)?;
//! let restore = props.consumer(ConsumerRole::Restore)?;
//! assert_eq!((main.max_poll_records, restore.max_poll_records), (100, 1000));
//! assert_eq!(props.producer()?.linger.as_millis(), 20);
//! # Ok::<(), kafka_wire::config::ConfigError>(())
//! ```

use crate::config::table::{self, Configurable};
use crate::config::{ClientConfig, ConfigError};
use crate::consumer::ConsumerConfig;
use crate::producer::ProducerConfig;

/// The prefixes that aim a key at one client (Kafka Streams' `StreamsConfig.*_PREFIX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientPrefix {
    /// `main.consumer.`: the consumer that reads the input topics.
    MainConsumer,
    /// `restore.consumer.`: the consumer that restores state from changelogs.
    RestoreConsumer,
    /// `global.consumer.`: the consumer of global tables.
    GlobalConsumer,
    /// `consumer.`: every consumer.
    Consumer,
    /// `producer.`.
    Producer,
    /// `admin.`.
    Admin,
}

impl ClientPrefix {
    /// Every prefix, the role-specific consumer prefixes first.
    pub const ALL: [ClientPrefix; 6] = [
        ClientPrefix::MainConsumer,
        ClientPrefix::RestoreConsumer,
        ClientPrefix::GlobalConsumer,
        ClientPrefix::Consumer,
        ClientPrefix::Producer,
        ClientPrefix::Admin,
    ];

    /// The prefix as written in a key.
    pub fn prefix(self) -> &'static str {
        match self {
            ClientPrefix::MainConsumer => "main.consumer.",
            ClientPrefix::RestoreConsumer => "restore.consumer.",
            ClientPrefix::GlobalConsumer => "global.consumer.",
            ClientPrefix::Consumer => "consumer.",
            ClientPrefix::Producer => "producer.",
            ClientPrefix::Admin => "admin.",
        }
    }

    /// The prefix of `key` and the client key after it, if `key` has one.
    pub fn split(key: &str) -> Option<(ClientPrefix, &str)> {
        Self::ALL
            .into_iter()
            .find_map(|p| key.strip_prefix(p.prefix()).map(|rest| (p, rest)))
    }

    /// Whether the client this prefix aims at takes `key`.
    fn owns(self, key: &str) -> bool {
        match self {
            ClientPrefix::Producer => ProducerConfig::owns(key),
            ClientPrefix::Admin => ClientConfig::owns(key),
            _ => ConsumerConfig::owns(key),
        }
    }
}

/// Which consumer a configuration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerRole {
    /// Reads the input topics (`main.consumer.` overrides).
    Main,
    /// Restores state stores from changelogs (`restore.consumer.`).
    Restore,
    /// Reads global tables (`global.consumer.`).
    Global,
}

impl ConsumerRole {
    fn prefix(self) -> ClientPrefix {
        match self {
            ConsumerRole::Main => ClientPrefix::MainConsumer,
            ConsumerRole::Restore => ClientPrefix::RestoreConsumer,
            ConsumerRole::Global => ClientPrefix::GlobalConsumer,
        }
    }
}

/// Properties of a higher layer and its clients, in the order they were set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayeredConfig {
    props: Vec<(String, String)>,
}

impl LayeredConfig {
    /// No properties.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set `key` (any key: checked by [`LayeredConfig::check`] and when a client is built).
    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        match self.props.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.to_owned(),
            None => self.props.push((key.to_owned(), value.to_owned())),
        }
        self
    }

    /// Every property, in the order they were first set.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &String)> {
        self.props.iter().map(|(k, v)| (k, v))
    }

    /// The value of `key` exactly as set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Refuse keys nobody takes: an unprefixed key that neither the higher layer (`owns`) nor
    /// any client takes, and a prefixed key its client does not take.
    pub fn check(&self, owns: impl Fn(&str) -> bool) -> Result<(), ConfigError> {
        for (key, _) in &self.props {
            match ClientPrefix::split(key) {
                Some((prefix, rest)) if !prefix.owns(rest) => {
                    return Err(prefixed_unknown(prefix, key, rest));
                }
                Some(_) => {}
                None if owns(key) || ConsumerConfig::owns(key) || ProducerConfig::owns(key) => {}
                None => {
                    let mut known: Vec<&str> = ConsumerConfig::key_names();
                    for k in ProducerConfig::key_names() {
                        if !known.contains(&k) {
                            known.push(k);
                        }
                    }
                    return Err(table::unknown_key(key, known));
                }
            }
        }
        Ok(())
    }

    /// The consumer configuration for `role`: unprefixed consumer keys, then `consumer.`, then
    /// the role's own prefix, each overriding the one before.
    pub fn consumer(&self, role: ConsumerRole) -> Result<ConsumerConfig, ConfigError> {
        self.build(
            ConsumerConfig::default(),
            &[ClientPrefix::Consumer, role.prefix()],
        )
    }

    /// The producer configuration: unprefixed producer keys, then `producer.`.
    pub fn producer(&self) -> Result<ProducerConfig, ConfigError> {
        self.build(ProducerConfig::default(), &[ClientPrefix::Producer])
    }

    /// The admin client's configuration: unprefixed client keys, then `admin.`.
    pub fn admin(&self) -> Result<ClientConfig, ConfigError> {
        self.build(ClientConfig::default(), &[ClientPrefix::Admin])
    }

    fn build<C: Configurable>(
        &self,
        mut config: C,
        prefixes: &[ClientPrefix],
    ) -> Result<C, ConfigError> {
        for (key, value) in &self.props {
            if ClientPrefix::split(key).is_none() && C::owns(key) {
                config.try_set(key, value)?;
            }
        }
        for prefix in prefixes {
            for (key, value) in &self.props {
                let Some(rest) = key.strip_prefix(prefix.prefix()) else {
                    continue;
                };
                if ClientPrefix::split(key).is_some_and(|(p, _)| p != *prefix) {
                    continue; // `consumer.` must not take `main.consumer.` keys' tails
                }
                if !config.try_set(rest, value)? {
                    return Err(prefixed_unknown(*prefix, key, rest));
                }
            }
        }
        Ok(config)
    }
}

fn prefixed_unknown(prefix: ClientPrefix, key: &str, rest: &str) -> ConfigError {
    let known: Vec<&'static str> = match prefix {
        ClientPrefix::Producer => ProducerConfig::key_names(),
        ClientPrefix::Admin => ClientConfig::key_names().collect(),
        _ => ConsumerConfig::key_names(),
    };
    match table::unknown_key(rest, known) {
        ConfigError::UnknownKey { known, .. } => ConfigError::UnknownKey {
            key: key.to_owned(),
            known: format!("after {:?}: {known}", prefix.prefix()),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> LayeredConfig {
        let mut p = LayeredConfig::new();
        for (k, v) in pairs {
            p.set(k, v);
        }
        p
    }

    #[test]
    fn unprefixed_keys_reach_every_client_that_takes_them() {
        let p = props(&[
            ("bootstrap.servers", "k:9092"),
            ("request.timeout.ms", "7000"),
            ("linger.ms", "9"),
            ("max.poll.records", "33"),
        ]);
        let c = p.consumer(ConsumerRole::Main).unwrap();
        let pr = p.producer().unwrap();
        let a = p.admin().unwrap();
        assert_eq!(c.client.request_timeout.as_millis(), 7000);
        assert_eq!(pr.client.request_timeout.as_millis(), 7000);
        assert_eq!(a.request_timeout.as_millis(), 7000);
        assert_eq!(pr.linger.as_millis(), 9);
        assert_eq!(c.max_poll_records, 33);
    }

    #[test]
    fn role_prefix_overrides_consumer_prefix_overrides_unprefixed() {
        let p = props(&[
            ("main.consumer.max.poll.records", "3"),
            ("consumer.max.poll.records", "2"),
            ("max.poll.records", "1"),
        ]);
        assert_eq!(p.consumer(ConsumerRole::Main).unwrap().max_poll_records, 3);
        assert_eq!(
            p.consumer(ConsumerRole::Restore).unwrap().max_poll_records,
            2
        );
        let q = props(&[("restore.consumer.client.id", "r")]);
        assert_eq!(
            q.consumer(ConsumerRole::Restore).unwrap().client.client_id,
            "r"
        );
        assert_eq!(
            q.consumer(ConsumerRole::Main).unwrap().client.client_id,
            "kafka-wire"
        );
    }

    #[test]
    fn unknown_keys_are_errors_at_the_owning_layer() {
        let p = props(&[("application.id", "a"), ("num.stream.threads", "2")]);
        p.check(|k| k == "application.id" || k == "num.stream.threads")
            .unwrap();
        let typo = props(&[("linger.mss", "1")]);
        let e = typo.check(|_| false).unwrap_err();
        assert!(e.to_string().contains("linger.mss"), "{e}");
        let bad_prefixed = props(&[("producer.max.poll.records", "1")]);
        let e = bad_prefixed.check(|_| false).unwrap_err();
        assert!(e.to_string().contains("producer.max.poll.records"), "{e}");
        let e = bad_prefixed.producer().unwrap_err();
        assert!(e.to_string().contains("producer.max.poll.records"), "{e}");
        // A client simply does not see keys that are not its own.
        assert!(p.producer().is_ok());
    }

    #[test]
    fn bad_values_name_the_key() {
        let p = props(&[("consumer.fetch.max.wait.ms", "soon")]);
        let e = p.consumer(ConsumerRole::Main).unwrap_err();
        assert!(e.to_string().contains("fetch.max.wait.ms"), "{e}");
    }
}
