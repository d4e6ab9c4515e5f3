//! Consumer configuration under the Java client's property names.

use std::time::Duration;

use crate::config::{ClientConfig, ConfigError};

/// `auto.offset.reset`: where to start when there is no valid position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetReset {
    /// `earliest`: the log start.
    Earliest,
    /// `latest` (the default): the log end.
    Latest,
    /// `none`: fail with OFFSET_OUT_OF_RANGE.
    None,
}

/// `isolation.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationLevel {
    /// `read_uncommitted` (the default): everything up to the high watermark.
    ReadUncommitted,
    /// `read_committed`: up to the last stable offset, without aborted transactions.
    ReadCommitted,
}

/// Consumer settings; connection settings are in [`ConsumerConfig::client`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerConfig {
    /// Connection, metadata and retry settings.
    pub client: ClientConfig,
    /// `fetch.min.bytes` (default 1).
    pub fetch_min_bytes: i32,
    /// `fetch.max.wait.ms` (default 500).
    pub fetch_max_wait: Duration,
    /// `fetch.max.bytes` (default 52 428 800): per fetch request.
    pub fetch_max_bytes: i32,
    /// `max.partition.fetch.bytes` (default 1 048 576): per partition in a fetch.
    pub max_partition_fetch_bytes: i32,
    /// `max.poll.records` (default 500): records returned by one poll.
    pub max_poll_records: usize,
    /// `auto.offset.reset` (default `latest`).
    pub auto_offset_reset: OffsetReset,
    /// `isolation.level` (default `read_uncommitted`).
    pub isolation_level: IsolationLevel,
    /// `check.crcs` (default true).
    pub check_crcs: bool,
    /// `group.id`: needed by [`Consumer::subscribe`](super::Consumer::subscribe) and commits.
    pub group_id: Option<String>,
    /// `group.instance.id`: static membership (KIP-345).
    pub group_instance_id: Option<String>,
    /// `session.timeout.ms` (default 45 000).
    pub session_timeout: Duration,
    /// `heartbeat.interval.ms` (default 3 000).
    pub heartbeat_interval: Duration,
    /// `max.poll.interval.ms` (default 300 000): a member that does not poll for this long
    /// leaves the group.
    pub max_poll_interval: Duration,
    /// `rebalance.timeout.ms`: how long the coordinator waits for members to rejoin; defaults
    /// to `max.poll.interval.ms`, as in the Java consumer.
    pub rebalance_timeout: Option<Duration>,
    /// `enable.auto.commit` (default true).
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms` (default 5 000).
    pub auto_commit_interval: Duration,
    /// `partition.assignment.strategy` (default `range,cooperative-sticky`, as in Java).
    pub partition_assignment_strategy: Vec<String>,
    /// `client.rack`.
    pub client_rack: Option<String>,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            client: ClientConfig::default(),
            fetch_min_bytes: 1,
            fetch_max_wait: Duration::from_millis(500),
            fetch_max_bytes: 52_428_800,
            max_partition_fetch_bytes: 1_048_576,
            max_poll_records: 500,
            auto_offset_reset: OffsetReset::Latest,
            isolation_level: IsolationLevel::ReadUncommitted,
            check_crcs: true,
            group_id: None,
            group_instance_id: None,
            session_timeout: Duration::from_millis(45_000),
            heartbeat_interval: Duration::from_millis(3_000),
            max_poll_interval: Duration::from_millis(300_000),
            rebalance_timeout: None,
            enable_auto_commit: true,
            auto_commit_interval: Duration::from_millis(5_000),
            partition_assignment_strategy: vec!["range".into(), "cooperative-sticky".into()],
            client_rack: None,
        }
    }
}

/// Keys [`ConsumerConfig::set`] accepts besides the client keys.
pub const CONSUMER_KEYS: &[&str] = &[
    "fetch.min.bytes",
    "fetch.max.wait.ms",
    "fetch.max.bytes",
    "max.partition.fetch.bytes",
    "max.poll.records",
    "auto.offset.reset",
    "isolation.level",
    "check.crcs",
    "group.id",
    "group.instance.id",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "rebalance.timeout.ms",
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "partition.assignment.strategy",
    "client.rack",
    "group.protocol",
];

fn invalid(key: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.into(),
        value: value.into(),
        expected: expected.into(),
    }
}

fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(key, value, "true or false")),
    }
}

/// The built-in assignor a `partition.assignment.strategy` entry names (short names as in
/// librdkafka, or the Java class names).
pub fn assignor_name(entry: &str) -> Option<&'static str> {
    match entry.trim() {
        "range" | "org.apache.kafka.clients.consumer.RangeAssignor" => Some("range"),
        "roundrobin" | "org.apache.kafka.clients.consumer.RoundRobinAssignor" => Some("roundrobin"),
        "cooperative-sticky" | "org.apache.kafka.clients.consumer.CooperativeStickyAssignor" => {
            Some("cooperative-sticky")
        }
        _ => None,
    }
}

impl ConsumerConfig {
    /// The Azure Event Hubs profile ([`ClientConfig::event_hubs`]); the default
    /// `session.timeout.ms` (45 s) already meets Event Hubs' recommended 30 s minimum.
    pub fn event_hubs(connection_string: &str) -> Result<Self, ConfigError> {
        Ok(ConsumerConfig {
            client: ClientConfig::event_hubs(connection_string)?,
            ..ConsumerConfig::default()
        })
    }
}

impl ConsumerConfig {
    /// Defaults with `bootstrap.servers` set.
    pub fn new(bootstrap_servers: &str) -> Self {
        ConsumerConfig {
            client: ClientConfig::new(bootstrap_servers),
            ..Default::default()
        }
    }

    /// Set one property by its Kafka name (consumer or client key).
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Self, ConfigError> {
        let v = value.trim();
        let int = |min: i32| match v.parse::<i32>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(invalid(key, value, &format!("an integer >= {min}"))),
        };
        match key {
            "fetch.min.bytes" => self.fetch_min_bytes = int(0)?,
            "fetch.max.wait.ms" => self.fetch_max_wait = Duration::from_millis(int(0)? as u64),
            "fetch.max.bytes" => self.fetch_max_bytes = int(1)?,
            "max.partition.fetch.bytes" => self.max_partition_fetch_bytes = int(1)?,
            "max.poll.records" => self.max_poll_records = int(1)? as usize,
            "auto.offset.reset" => {
                self.auto_offset_reset = match v {
                    "earliest" | "smallest" | "beginning" => OffsetReset::Earliest,
                    "latest" | "largest" | "end" => OffsetReset::Latest,
                    "none" | "error" => OffsetReset::None,
                    _ => return Err(invalid(key, value, "earliest, latest or none")),
                }
            }
            "isolation.level" => {
                self.isolation_level = match v {
                    "read_uncommitted" => IsolationLevel::ReadUncommitted,
                    "read_committed" => IsolationLevel::ReadCommitted,
                    _ => return Err(invalid(key, value, "read_uncommitted or read_committed")),
                }
            }
            "check.crcs" => self.check_crcs = boolean(key, value)?,
            "group.id" => self.group_id = Some(value.to_owned()),
            "group.instance.id" => {
                self.group_instance_id = (!v.is_empty()).then(|| v.to_owned());
            }
            "session.timeout.ms" => self.session_timeout = Duration::from_millis(int(1)? as u64),
            "heartbeat.interval.ms" => {
                self.heartbeat_interval = Duration::from_millis(int(1)? as u64)
            }
            "max.poll.interval.ms" => {
                self.max_poll_interval = Duration::from_millis(int(1)? as u64)
            }
            "rebalance.timeout.ms" => {
                self.rebalance_timeout = Some(Duration::from_millis(int(1)? as u64))
            }
            "enable.auto.commit" => self.enable_auto_commit = boolean(key, value)?,
            "auto.commit.interval.ms" => {
                self.auto_commit_interval = Duration::from_millis(int(1)? as u64)
            }
            "partition.assignment.strategy" => {
                let mut names = Vec::new();
                for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    names.push(
                        assignor_name(part)
                            .ok_or_else(|| {
                                invalid(key, value, "range, roundrobin or cooperative-sticky (or their Java class names)")
                            })?
                            .to_owned(),
                    );
                }
                if names.is_empty() {
                    return Err(invalid(key, value, "at least one assignor"));
                }
                self.partition_assignment_strategy = names;
            }
            "client.rack" => self.client_rack = (!v.is_empty()).then(|| v.to_owned()),
            "group.protocol" => {
                if !v.eq_ignore_ascii_case("classic") {
                    return Err(invalid(
                        key,
                        value,
                        "classic (the KIP-848 `consumer` protocol is not implemented yet)",
                    ));
                }
            }
            _ => match self.client.set(key, value) {
                Ok(_) => {}
                Err(ConfigError::UnknownKey { key, known }) => {
                    return Err(ConfigError::UnknownKey {
                        key,
                        known: format!("{}, {known}", CONSUMER_KEYS.join(", ")),
                    })
                }
                Err(e) => return Err(e),
            },
        }
        Ok(self)
    }
}
