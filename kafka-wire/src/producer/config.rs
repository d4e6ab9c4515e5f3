//! Producer configuration under the Java client's property names.

use std::time::Duration;

use crate::config::table::{self, ms, ConfigKey, ValueKind};
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

/// The producer's own keys (the client keys are in [`CLIENT_TABLE`](crate::config::CLIENT_TABLE)
/// and [`SECURITY_TABLE`](crate::config::SECURITY_TABLE)).
pub const PRODUCER_TABLE: &[ConfigKey<ProducerConfig>] = &[
    ConfigKey {
        name: "acks",
        kind: ValueKind::Choice(&["0", "1", "all"]),
        default: "all",
        doc: "Replicas that must have a record before it counts as written (`-1` = `all`).",
        set: |c, v| {
            c.acks = match v.trim() {
                "0" => Acks::None,
                "1" => Acks::Leader,
                "all" | "-1" => Acks::All,
                _ => return Err("0, 1, all or -1".into()),
            };
            Ok(())
        },
        get: |c| {
            match c.acks {
                Acks::None => "0",
                Acks::Leader => "1",
                Acks::All => "all",
            }
            .into()
        },
    },
    ConfigKey {
        name: "linger.ms",
        kind: ValueKind::Millis,
        default: "5",
        doc: "How long a batch may wait for more records.",
        set: |c, v| table::millis(v).map(|x| c.linger = x),
        get: |c| ms(c.linger),
    },
    ConfigKey {
        name: "batch.size",
        kind: ValueKind::Bytes,
        default: "16384",
        doc: "Bytes per partition batch.",
        set: |c, v| table::at_least(v, 1usize).map(|x| c.batch_size = x),
        get: |c| c.batch_size.to_string(),
    },
    ConfigKey {
        name: "buffer.memory",
        kind: ValueKind::Bytes,
        default: "33554432",
        doc: "Bytes of records waiting to be sent; `send` waits while it is used up.",
        set: |c, v| table::at_least(v, 1usize).map(|x| c.buffer_memory = x),
        get: |c| c.buffer_memory.to_string(),
    },
    ConfigKey {
        name: "max.block.ms",
        kind: ValueKind::Millis,
        default: "60000",
        doc: "How long `send` may wait for metadata or buffer memory.",
        set: |c, v| table::millis(v).map(|x| c.max_block = x),
        get: |c| ms(c.max_block),
    },
    ConfigKey {
        name: "compression.type",
        kind: ValueKind::Choice(&["none", "gzip", "snappy", "lz4", "zstd"]),
        default: "none",
        doc: "Codec of record batches.",
        set: |c, v| {
            c.compression = v
                .trim()
                .parse()
                .map_err(|_| "none, gzip, snappy, lz4 or zstd".to_owned())?;
            Ok(())
        },
        get: |c| c.compression.name().into(),
    },
    ConfigKey {
        name: "max.in.flight.requests.per.connection",
        kind: ValueKind::Integer,
        default: "5",
        doc: "Produce requests in flight per broker (at most 5 with idempotence).",
        set: |c, v| table::at_least(v, 1usize).map(|x| c.max_in_flight = x),
        get: |c| c.max_in_flight.to_string(),
    },
    ConfigKey {
        name: "delivery.timeout.ms",
        kind: ValueKind::Millis,
        default: "120000",
        doc: "Upper bound from `send` to success or failure, retries included.",
        set: |c, v| table::millis(v).map(|x| c.delivery_timeout = x),
        get: |c| ms(c.delivery_timeout),
    },
    ConfigKey {
        name: "retries",
        kind: ValueKind::Integer,
        default: "2147483647",
        doc: "Retries of a failed batch (bounded by `delivery.timeout.ms`).",
        set: |c, v| table::at_least(v, 0u32).map(|x| c.retries = x),
        get: |c| c.retries.to_string(),
    },
    ConfigKey {
        name: "enable.idempotence",
        kind: ValueKind::Boolean,
        default: "true",
        doc: "Retries never duplicate or reorder records; needs `acks=all`, retries > 0 and at most 5 requests in flight.",
        set: |c, v| {
            c.enable_idempotence = table::boolean(v)?;
            c.idempotence_explicit = true;
            Ok(())
        },
        get: |c| c.enable_idempotence.to_string(),
    },
    ConfigKey {
        name: "max.request.size",
        kind: ValueKind::Bytes,
        default: "1048576",
        doc: "Largest record batch (and request) sent.",
        set: |c, v| table::at_least(v, 1usize).map(|x| c.max_request_size = x),
        get: |c| c.max_request_size.to_string(),
    },
    ConfigKey {
        name: "transactional.id",
        kind: ValueKind::Text,
        default: "",
        doc: "Makes the producer transactional (implies idempotence).",
        set: |c, v| {
            c.transactional_id = table::optional(v);
            Ok(())
        },
        get: |c| c.transactional_id.clone().unwrap_or_default(),
    },
    ConfigKey {
        name: "transaction.timeout.ms",
        kind: ValueKind::Millis,
        default: "60000",
        doc: "The coordinator aborts a transaction open longer than this.",
        set: |c, v| table::millis(v).map(|x| c.transaction_timeout = x),
        get: |c| ms(c.transaction_timeout),
    },
    ConfigKey {
        name: "partitioner.adaptive.partitioning.enable",
        kind: ValueKind::Boolean,
        default: "true",
        doc: "Keyless records favour partitions with fewer batches queued (KIP-794).",
        set: |c, v| table::boolean(v).map(|x| c.adaptive_partitioning = x),
        get: |c| c.adaptive_partitioning.to_string(),
    },
    ConfigKey {
        name: "partitioner.availability.timeout.ms",
        kind: ValueKind::Millis,
        default: "0",
        doc: "Skip partitions whose leader could not take batches for this long (0: off).",
        set: |c, v| table::millis(v).map(|x| c.partitioner_availability_timeout = x),
        get: |c| ms(c.partitioner_availability_timeout),
    },
    ConfigKey {
        name: "partitioner.ignore.keys",
        kind: ValueKind::Boolean,
        default: "false",
        doc: "Partition keyed records like keyless ones (sticky) instead of by key hash.",
        set: |c, v| table::boolean(v).map(|x| c.partitioner_ignore_keys = x),
        get: |c| c.partitioner_ignore_keys.to_string(),
    },
];

fn invalid(key: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.into(),
        value: value.into(),
        expected: expected.into(),
    }
}

impl table::ClientSettings for ProducerConfig {
    const KEYS: &'static [ConfigKey<Self>] = PRODUCER_TABLE;
    fn client(&self) -> &ClientConfig {
        &self.client
    }
    fn client_mut(&mut self) -> &mut ClientConfig {
        &mut self.client
    }
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

    /// Set one property by its Kafka name (producer or client key); an unknown key is an
    /// error listing the known ones.
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Self, ConfigError> {
        table::Configurable::set_known(self, key, value)?;
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
            tracing::warn!(
                setting = key,
                "enable.idempotence was left at its default and {key} is not {expected}: \
                 the producer is not idempotent (set enable.idempotence=false to silence this, \
                 or fix {key} to keep idempotence)"
            );
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
