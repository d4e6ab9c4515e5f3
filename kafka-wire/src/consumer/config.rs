//! Consumer configuration under the Java client's property names.

use std::time::Duration;

use crate::config::table::{self, ms, ConfigKey, ValueKind};
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
    /// `exclude.internal.topics` (default true): pattern subscriptions never match internal
    /// topics such as `__consumer_offsets`.
    pub exclude_internal_topics: bool,
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
            exclude_internal_topics: true,
        }
    }
}

/// The consumer's own keys (the client keys are in [`CLIENT_TABLE`](crate::config::CLIENT_TABLE)
/// and [`SECURITY_TABLE`](crate::config::SECURITY_TABLE)).
pub const CONSUMER_TABLE: &[ConfigKey<ConsumerConfig>] = &[
    ConfigKey {
        name: "fetch.min.bytes",
        kind: ValueKind::Bytes,
        default: "1",
        doc: "Bytes a fetch waits for (up to `fetch.max.wait.ms`).",
        set: |c, v| table::at_least(v, 0i32).map(|x| c.fetch_min_bytes = x),
        get: |c| c.fetch_min_bytes.to_string(),
    },
    ConfigKey {
        name: "fetch.max.wait.ms",
        kind: ValueKind::Millis,
        default: "500",
        doc: "How long a broker may hold a fetch for `fetch.min.bytes`.",
        set: |c, v| table::millis(v).map(|x| c.fetch_max_wait = x),
        get: |c| ms(c.fetch_max_wait),
    },
    ConfigKey {
        name: "fetch.max.bytes",
        kind: ValueKind::Bytes,
        default: "52428800",
        doc: "Bytes per fetch response.",
        set: |c, v| table::at_least(v, 1i32).map(|x| c.fetch_max_bytes = x),
        get: |c| c.fetch_max_bytes.to_string(),
    },
    ConfigKey {
        name: "max.partition.fetch.bytes",
        kind: ValueKind::Bytes,
        default: "1048576",
        doc: "Bytes per partition in a fetch response.",
        set: |c, v| table::at_least(v, 1i32).map(|x| c.max_partition_fetch_bytes = x),
        get: |c| c.max_partition_fetch_bytes.to_string(),
    },
    ConfigKey {
        name: "max.poll.records",
        kind: ValueKind::Integer,
        default: "500",
        doc: "Records returned by one poll.",
        set: |c, v| table::at_least(v, 1usize).map(|x| c.max_poll_records = x),
        get: |c| c.max_poll_records.to_string(),
    },
    ConfigKey {
        name: "auto.offset.reset",
        kind: ValueKind::Choice(&["earliest", "latest", "none"]),
        default: "latest",
        doc: "Where to start without a valid position (`none`: fail).",
        set: |c, v| {
            c.auto_offset_reset = match v.trim() {
                "earliest" | "smallest" | "beginning" => OffsetReset::Earliest,
                "latest" | "largest" | "end" => OffsetReset::Latest,
                "none" | "error" => OffsetReset::None,
                _ => return Err("earliest, latest or none".into()),
            };
            Ok(())
        },
        get: |c| {
            match c.auto_offset_reset {
                OffsetReset::Earliest => "earliest",
                OffsetReset::Latest => "latest",
                OffsetReset::None => "none",
            }
            .into()
        },
    },
    ConfigKey {
        name: "isolation.level",
        kind: ValueKind::Choice(&["read_uncommitted", "read_committed"]),
        default: "read_uncommitted",
        doc: "`read_committed` stops at the last stable offset and drops aborted transactions.",
        set: |c, v| {
            c.isolation_level = match v.trim() {
                "read_uncommitted" => IsolationLevel::ReadUncommitted,
                "read_committed" => IsolationLevel::ReadCommitted,
                _ => return Err("read_uncommitted or read_committed".into()),
            };
            Ok(())
        },
        get: |c| {
            match c.isolation_level {
                IsolationLevel::ReadUncommitted => "read_uncommitted",
                IsolationLevel::ReadCommitted => "read_committed",
            }
            .into()
        },
    },
    ConfigKey {
        name: "check.crcs",
        kind: ValueKind::Boolean,
        default: "true",
        doc: "Check record batch CRCs.",
        set: |c, v| table::boolean(v).map(|x| c.check_crcs = x),
        get: |c| c.check_crcs.to_string(),
    },
    ConfigKey {
        name: "group.id",
        kind: ValueKind::Text,
        default: "",
        doc: "The consumer group; needed by `subscribe` and commits.",
        set: |c, v| {
            c.group_id = Some(v.to_owned());
            Ok(())
        },
        get: |c| c.group_id.clone().unwrap_or_default(),
    },
    ConfigKey {
        name: "group.instance.id",
        kind: ValueKind::Text,
        default: "",
        doc: "Static membership (KIP-345).",
        set: |c, v| {
            c.group_instance_id = table::optional(v);
            Ok(())
        },
        get: |c| c.group_instance_id.clone().unwrap_or_default(),
    },
    ConfigKey {
        name: "session.timeout.ms",
        kind: ValueKind::Millis,
        default: "45000",
        doc: "A member without a heartbeat for this long is removed.",
        set: |c, v| table::millis_at_least(v, 1).map(|x| c.session_timeout = x),
        get: |c| ms(c.session_timeout),
    },
    ConfigKey {
        name: "heartbeat.interval.ms",
        kind: ValueKind::Millis,
        default: "3000",
        doc: "Time between heartbeats (below `session.timeout.ms`).",
        set: |c, v| table::millis_at_least(v, 1).map(|x| c.heartbeat_interval = x),
        get: |c| ms(c.heartbeat_interval),
    },
    ConfigKey {
        name: "max.poll.interval.ms",
        kind: ValueKind::Millis,
        default: "300000",
        doc: "A member that does not poll for this long leaves the group.",
        set: |c, v| table::millis_at_least(v, 1).map(|x| c.max_poll_interval = x),
        get: |c| ms(c.max_poll_interval),
    },
    ConfigKey {
        name: "rebalance.timeout.ms",
        kind: ValueKind::Millis,
        default: "",
        doc: "How long the coordinator waits for members to rejoin (default: `max.poll.interval.ms`).",
        set: |c, v| table::millis_at_least(v, 1).map(|x| c.rebalance_timeout = Some(x)),
        get: |c| c.rebalance_timeout.map(ms).unwrap_or_default(),
    },
    ConfigKey {
        name: "enable.auto.commit",
        kind: ValueKind::Boolean,
        default: "true",
        doc: "Commit consumed offsets every `auto.commit.interval.ms`.",
        set: |c, v| table::boolean(v).map(|x| c.enable_auto_commit = x),
        get: |c| c.enable_auto_commit.to_string(),
    },
    ConfigKey {
        name: "auto.commit.interval.ms",
        kind: ValueKind::Millis,
        default: "5000",
        doc: "Interval of automatic commits.",
        set: |c, v| table::millis_at_least(v, 1).map(|x| c.auto_commit_interval = x),
        get: |c| ms(c.auto_commit_interval),
    },
    ConfigKey {
        name: "partition.assignment.strategy",
        kind: ValueKind::List,
        default: "range,cooperative-sticky",
        doc: "Assignors in order of preference: `range`, `roundrobin`, `cooperative-sticky` (or Java class names).",
        set: |c, v| {
            let mut names = Vec::new();
            for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let name = assignor_name(part).ok_or_else(|| {
                    "range, roundrobin or cooperative-sticky (or their Java class names)".to_owned()
                })?;
                names.push(name.to_owned());
            }
            if names.is_empty() {
                return Err("at least one assignor".into());
            }
            c.partition_assignment_strategy = names;
            Ok(())
        },
        get: |c| c.partition_assignment_strategy.join(","),
    },
    ConfigKey {
        name: "client.rack",
        kind: ValueKind::Text,
        default: "",
        doc: "The rack of this client (sent in the subscription).",
        set: |c, v| {
            c.client_rack = table::optional(v);
            Ok(())
        },
        get: |c| c.client_rack.clone().unwrap_or_default(),
    },
    ConfigKey {
        name: "exclude.internal.topics",
        kind: ValueKind::Boolean,
        default: "true",
        doc: "Pattern subscriptions never match internal topics such as `__consumer_offsets`.",
        set: |c, v| table::boolean(v).map(|x| c.exclude_internal_topics = x),
        get: |c| c.exclude_internal_topics.to_string(),
    },
    ConfigKey {
        name: "group.protocol",
        kind: ValueKind::Choice(&["classic"]),
        default: "classic",
        doc: "The group protocol; only `classic` (the KIP-848 `consumer` protocol is not implemented yet).",
        set: |_, v| {
            if v.trim().eq_ignore_ascii_case("classic") {
                Ok(())
            } else {
                Err("classic (the KIP-848 `consumer` protocol is not implemented yet)".into())
            }
        },
        get: |_| "classic".into(),
    },
];

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

    /// Set one property by its Kafka name (consumer or client key); an unknown key is an
    /// error listing the known ones.
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Self, ConfigError> {
        table::Configurable::set_known(self, key, value)?;
        Ok(self)
    }

    /// Check the settings together: `heartbeat.interval.ms` below `session.timeout.ms`, and
    /// `fetch.max.bytes` at least `max.partition.fetch.bytes`'s smallest useful size.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.client.validate()?;
        if self.heartbeat_interval >= self.session_timeout {
            return Err(ConfigError::InvalidValue {
                key: "heartbeat.interval.ms".into(),
                value: ms(self.heartbeat_interval),
                expected: format!(
                    "a value below session.timeout.ms ({})",
                    ms(self.session_timeout)
                ),
            });
        }
        Ok(())
    }
}

impl table::ClientSettings for ConsumerConfig {
    const KEYS: &'static [ConfigKey<Self>] = CONSUMER_TABLE;
    fn client(&self) -> &ClientConfig {
        &self.client
    }
    fn client_mut(&mut self) -> &mut ClientConfig {
        &mut self.client
    }
}
