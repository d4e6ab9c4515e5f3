//! Producer configuration under the Java client's property names.

use std::time::Duration;

use crate::config::{ClientConfig, ConfigError};
use crate::protocol::compression::Compression;

/// `acks`: how many replicas must have a record before it counts as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// `acks=0`: fire and forget; no response, no offsets, no retries.
    None,
    /// `acks=1`: the leader has it.
    Leader,
    /// `acks=all` (`-1`): every in-sync replica has it. The default, and required by idempotence.
    All,
}

impl Acks {
    /// The wire value.
    pub fn wire(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

/// Producer settings; the connection settings are in [`ProducerConfig::client`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerConfig {
    /// Connection, metadata and retry settings shared by all clients.
    pub client: ClientConfig,
    /// `acks` (default `all`).
    pub acks: Acks,
    /// `linger.ms` (default 5, as in the Java client since 4.0): how long a batch may wait for
    /// more records.
    pub linger: Duration,
    /// `batch.size` (default 16 384): bytes per partition batch.
    pub batch_size: usize,
    /// `buffer.memory` (default 33 554 432): bytes of records waiting to be sent; `send`
    /// waits when it is used up.
    pub buffer_memory: usize,
    /// `max.block.ms` (default 60 000): how long `send` may wait for metadata or buffer memory.
    pub max_block: Duration,
    /// `compression.type` (default `none`).
    pub compression: Compression,
    /// `max.in.flight.requests.per.connection` (default 5; at most 5 with idempotence).
    pub max_in_flight: usize,
    /// `delivery.timeout.ms` (default 120 000): upper bound from `send` to success or failure,
    /// retries included.
    pub delivery_timeout: Duration,
    /// `retries` (default `i32::MAX`: bounded by `delivery.timeout.ms`).
    pub retries: u32,
    /// `enable.idempotence` (default true).
    pub enable_idempotence: bool,
    /// `max.request.size` (default 1 048 576): largest record batch (and request) sent.
    pub max_request_size: usize,
    /// `partitioner.adaptive.partitioning.enable` (default true): keyless records switch to a
    /// partition drawn with weights favouring partitions with fewer batches queued (KIP-794);
    /// false: uniformly among partitions with a leader.
    pub adaptive_partitioning: bool,
    /// `partitioner.availability.timeout.ms` (default 0: off): with adaptive partitioning, a
    /// partition whose leader has not been able to take ready batches for longer than this is
    /// not chosen for keyless records.
    pub partitioner_availability_timeout: Duration,
    /// `partitioner.ignore.keys` (default false): when true, keyed records are partitioned like
    /// keyless ones (sticky) instead of by the hash of their key.
    pub partitioner_ignore_keys: bool,
    /// `transactional.id`: makes the producer transactional (implies idempotence).
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms` (default 60 000): the coordinator aborts a transaction open
    /// longer than this.
    pub transaction_timeout: Duration,
    idempotence_explicit: bool,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            client: ClientConfig::default(),
            acks: Acks::All,
            linger: Duration::from_millis(5),
            batch_size: 16_384,
            buffer_memory: 32 * 1024 * 1024,
            max_block: Duration::from_millis(60_000),
            compression: Compression::None,
            max_in_flight: 5,
            delivery_timeout: Duration::from_millis(120_000),
            retries: i32::MAX as u32,
            enable_idempotence: true,
            max_request_size: 1_048_576,
            adaptive_partitioning: true,
            partitioner_availability_timeout: Duration::ZERO,
            partitioner_ignore_keys: false,
            transactional_id: None,
            transaction_timeout: Duration::from_millis(60_000),
            idempotence_explicit: false,
        }
    }
}

/// Keys [`ProducerConfig::set`] accepts besides the client keys.
pub const PRODUCER_KEYS: &[&str] = &[
    "acks",
    "linger.ms",
    "batch.size",
    "buffer.memory",
    "max.block.ms",
    "compression.type",
    "max.in.flight.requests.per.connection",
    "delivery.timeout.ms",
    "retries",
    "enable.idempotence",
    "transactional.id",
    "transaction.timeout.ms",
    "max.request.size",
    "partitioner.adaptive.partitioning.enable",
    "partitioner.availability.timeout.ms",
    "partitioner.ignore.keys",
];

fn invalid(key: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.into(),
        value: value.into(),
        expected: expected.into(),
    }
}

/// A boolean as the Java client reads it: `true` or `false`, in any case.
fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        v if v.eq_ignore_ascii_case("true") => Ok(true),
        v if v.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid(key, value, "true or false")),
    }
}

fn number<T: std::str::FromStr>(key: &str, value: &str, expected: &str) -> Result<T, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(key, value, expected))
}

impl ProducerConfig {
    /// The Azure Event Hubs profile ([`ClientConfig::event_hubs`]) with `max.request.size` at
    /// 1,000,000 bytes: Event Hubs closes the connection on requests above 1,046,528.
    pub fn event_hubs(connection_string: &str) -> Result<Self, ConfigError> {
        Ok(ProducerConfig {
            client: ClientConfig::event_hubs(connection_string)?,
            max_request_size: 1_000_000,
            ..ProducerConfig::default()
        })
    }
}

impl ProducerConfig {
    /// Defaults with `bootstrap.servers` set.
    pub fn new(bootstrap_servers: &str) -> Self {
        ProducerConfig {
            client: ClientConfig::new(bootstrap_servers),
            ..Default::default()
        }
    }

    /// Set one property by its Kafka name (producer or client key).
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Self, ConfigError> {
        let ms = |v: &str| number::<u64>(key, v, "milliseconds").map(Duration::from_millis);
        match key {
            "acks" => {
                self.acks = match value.trim() {
                    "0" => Acks::None,
                    "1" => Acks::Leader,
                    "all" | "-1" => Acks::All,
                    _ => return Err(invalid(key, value, "0, 1, all or -1")),
                };
            }
            "linger.ms" => self.linger = ms(value)?,
            "batch.size" => self.batch_size = number(key, value, "bytes")?,
            "buffer.memory" => self.buffer_memory = number(key, value, "bytes")?,
            "max.block.ms" => self.max_block = ms(value)?,
            "compression.type" => {
                self.compression = value
                    .trim()
                    .parse()
                    .map_err(|_| invalid(key, value, "none, gzip, snappy, lz4 or zstd"))?
            }
            "max.in.flight.requests.per.connection" => {
                match number::<usize>(key, value, "an integer >= 1")? {
                    0 => return Err(invalid(key, value, "an integer >= 1")),
                    n => self.max_in_flight = n,
                }
            }
            "delivery.timeout.ms" => self.delivery_timeout = ms(value)?,
            "retries" => self.retries = number(key, value, "a non-negative integer")?,
            "enable.idempotence" => {
                self.enable_idempotence = boolean(key, value)?;
                self.idempotence_explicit = true;
            }
            "max.request.size" => self.max_request_size = number(key, value, "bytes")?,
            "transactional.id" => {
                self.transactional_id = (!value.trim().is_empty()).then(|| value.trim().to_owned())
            }
            "transaction.timeout.ms" => self.transaction_timeout = ms(value)?,
            "partitioner.adaptive.partitioning.enable" => {
                self.adaptive_partitioning = boolean(key, value)?
            }
            "partitioner.availability.timeout.ms" => {
                self.partitioner_availability_timeout = ms(value)?
            }
            "partitioner.ignore.keys" => self.partitioner_ignore_keys = boolean(key, value)?,
            _ => match self.client.set(key, value) {
                Ok(_) => {}
                Err(ConfigError::UnknownKey { key, known }) => {
                    return Err(ConfigError::UnknownKey {
                        key,
                        known: format!("{}, {known}", PRODUCER_KEYS.join(", ")),
                    })
                }
                Err(e) => return Err(e),
            },
        }
        Ok(self)
    }

    /// Check the settings together, as the Java client does: idempotence needs `acks=all`,
    /// retries and at most 5 requests in flight. When idempotence is only on by default and
    /// another setting conflicts, it is turned off; when it was asked for, that is an error.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        self.client.validate()?;
        let conflict = if self.acks != Acks::All {
            Some(("acks", "all"))
        } else if self.max_in_flight > 5 {
            Some(("max.in.flight.requests.per.connection", "at most 5"))
        } else if self.retries == 0 {
            Some(("retries", "greater than 0"))
        } else {
            None
        };
        if self.transactional_id.is_some() {
            if !self.enable_idempotence {
                return Err(invalid(
                    "enable.idempotence",
                    "false",
                    "true (or unset) when transactional.id is set",
                ));
            }
            if let Some((key, expected)) = conflict {
                return Err(invalid(
                    key,
                    "(conflicting)",
                    &format!("{expected} when transactional.id is set"),
                ));
            }
        }
        if let (true, Some((key, expected))) = (self.enable_idempotence, conflict) {
            if self.idempotence_explicit {
                return Err(invalid(
                    key,
                    "(conflicting)",
                    &format!("{expected} when enable.idempotence=true"),
                ));
            }
            self.enable_idempotence = false;
        }
        if self.delivery_timeout < self.linger + self.client.request_timeout {
            return Err(invalid(
                "delivery.timeout.ms",
                &self.delivery_timeout.as_millis().to_string(),
                "at least linger.ms + request.timeout.ms",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_defaults_and_names() {
        let mut c = ProducerConfig::new("k:9092");
        c.set("acks", "1")
            .unwrap()
            .set("linger.ms", "20")
            .unwrap()
            .set("compression.type", "zstd")
            .unwrap();
        c.set("client.id", "p").unwrap();
        assert_eq!(c.acks, Acks::Leader);
        assert_eq!(c.compression, Compression::Zstd);
        assert_eq!(c.client.client_id, "p");
        c.validate().unwrap();
        assert!(
            !c.enable_idempotence,
            "default idempotence yields to acks=1"
        );
        let err = c.set("acks", "2").unwrap_err();
        assert!(err.to_string().contains("acks"));
        let err = c.set("lingerms", "2").unwrap_err();
        assert!(err.to_string().contains("linger.ms"));
    }

    #[test]
    fn explicit_idempotence_conflict_is_an_error() {
        let mut c = ProducerConfig::new("k:9092");
        c.set("enable.idempotence", "true")
            .unwrap()
            .set("acks", "1")
            .unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("acks"));
    }

    #[test]
    fn partitioner_keys() {
        let mut c = ProducerConfig::new("k:9092");
        assert!(c.adaptive_partitioning, "adaptive by default, as in Java");
        assert_eq!(c.partitioner_availability_timeout, Duration::ZERO);
        assert!(!c.partitioner_ignore_keys);
        c.set("partitioner.adaptive.partitioning.enable", "false")
            .unwrap()
            .set("partitioner.availability.timeout.ms", "250")
            .unwrap()
            .set("partitioner.ignore.keys", "TRUE")
            .unwrap();
        assert!(!c.adaptive_partitioning);
        assert_eq!(
            c.partitioner_availability_timeout,
            Duration::from_millis(250)
        );
        assert!(c.partitioner_ignore_keys);
        let err = c
            .set("partitioner.availability.timeout.ms", "-1")
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("partitioner.availability.timeout.ms"));
        let err = c.set("partitioner.ignore.keys", "yes").unwrap_err();
        assert!(err.to_string().contains("true or false"), "{err}");
        let err = c.set("partitioner.class", "x").unwrap_err();
        assert!(err.to_string().contains("partitioner.ignore.keys"));
    }
}
