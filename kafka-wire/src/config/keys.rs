//! The client keys every client shares ([`CLIENT_TABLE`]); TLS and SASL keys are in
//! [`SECURITY_TABLE`](super::security::SECURITY_TABLE), applied to [`ClientConfig::security`].

use super::table::{self, ms, ConfigKey, ValueKind};
use super::{BrokerAddress, ClientConfig};

/// The connection, metadata and retry keys of every client.
pub const CLIENT_TABLE: &[ConfigKey<ClientConfig>] = &[
    ConfigKey {
        name: "bootstrap.servers",
        kind: ValueKind::List,
        default: "",
        doc: "Comma-separated `host:port` list to fetch the first metadata from.",
        set: |c, v| {
            let addrs = v
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(BrokerAddress::parse)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("comma-separated host:port ({e})"))?;
            if addrs.is_empty() {
                return Err("at least one host:port".into());
            }
            c.bootstrap_servers = addrs;
            Ok(())
        },
        get: |c| {
            c.bootstrap_servers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        },
    },
    ConfigKey {
        name: "client.id",
        kind: ValueKind::Text,
        default: "kafka-wire",
        doc: "Sent with every request; shown in broker logs and quotas.",
        set: |c, v| {
            c.client_id = v.to_owned();
            Ok(())
        },
        get: |c| c.client_id.clone(),
    },
    ConfigKey {
        name: "request.timeout.ms",
        kind: ValueKind::Millis,
        default: "30000",
        doc: "How long to wait for one response.",
        set: |c, v| table::millis(v).map(|x| c.request_timeout = x),
        get: |c| ms(c.request_timeout),
    },
    ConfigKey {
        name: "socket.connection.setup.timeout.ms",
        kind: ValueKind::Millis,
        default: "10000",
        doc: "TCP connect (and TLS/SASL set-up) timeout.",
        set: |c, v| table::millis(v).map(|x| c.connection_setup_timeout = x),
        get: |c| ms(c.connection_setup_timeout),
    },
    ConfigKey {
        name: "metadata.max.age.ms",
        kind: ValueKind::Millis,
        default: "300000",
        doc: "Refresh metadata at least this often.",
        set: |c, v| table::millis(v).map(|x| c.metadata_max_age = x),
        get: |c| ms(c.metadata_max_age),
    },
    ConfigKey {
        name: "connections.max.idle.ms",
        kind: ValueKind::Millis,
        default: "540000",
        doc: "Close connections idle this long.",
        set: |c, v| table::millis(v).map(|x| c.connections_max_idle = x),
        get: |c| ms(c.connections_max_idle),
    },
    ConfigKey {
        name: "reconnect.backoff.ms",
        kind: ValueKind::Millis,
        default: "50",
        doc: "First delay before reconnecting to a broker (then exponential, with jitter).",
        set: |c, v| table::millis(v).map(|x| c.reconnect_backoff = x),
        get: |c| ms(c.reconnect_backoff),
    },
    ConfigKey {
        name: "reconnect.backoff.max.ms",
        kind: ValueKind::Millis,
        default: "1000",
        doc: "Cap of the reconnect delay.",
        set: |c, v| table::millis(v).map(|x| c.reconnect_backoff_max = x),
        get: |c| ms(c.reconnect_backoff_max),
    },
    ConfigKey {
        name: "retry.backoff.ms",
        kind: ValueKind::Millis,
        default: "100",
        doc: "Delay before retrying a failed request.",
        set: |c, v| table::millis(v).map(|x| c.retry_backoff = x),
        get: |c| ms(c.retry_backoff),
    },
    ConfigKey {
        name: "retry.backoff.max.ms",
        kind: ValueKind::Millis,
        default: "1000",
        doc: "Cap of the retry delay, which doubles from `retry.backoff.ms` with ±20 % jitter.",
        set: |c, v| table::millis(v).map(|x| c.retry_backoff_max = x),
        get: |c| ms(c.retry_backoff_max),
    },
    ConfigKey {
        name: "default.api.timeout.ms",
        kind: ValueKind::Millis,
        default: "60000",
        doc: "Overall bound of an operation with its retries.",
        set: |c, v| table::millis(v).map(|x| c.default_api_timeout = x),
        get: |c| ms(c.default_api_timeout),
    },
    ConfigKey {
        name: "receive.message.max.bytes",
        kind: ValueKind::Bytes,
        default: "100000000",
        doc: "Largest response frame accepted (librdkafka's name); a larger one fails the connection.",
        set: |c, v| table::at_least(v, 1024usize).map(|x| c.receive_message_max_bytes = x),
        get: |c| c.receive_message_max_bytes.to_string(),
    },
];
