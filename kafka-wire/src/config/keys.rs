//! The table of property names `ClientConfig::set` accepts, and their parsers.

use super::{BrokerAddress, ClientConfig, ConfigError};
use std::time::Duration;

/// Every key [`ClientConfig::set`] accepts.
pub const CLIENT_KEYS: &[&str] = &[
    "bootstrap.servers",
    "client.id",
    "request.timeout.ms",
    "socket.connection.setup.timeout.ms",
    "metadata.max.age.ms",
    "connections.max.idle.ms",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
    "retry.backoff.ms",
    "default.api.timeout.ms",
    "receive.message.max.bytes",
];

fn invalid(key: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.to_owned(),
        value: value.to_owned(),
        expected: expected.to_owned(),
    }
}

fn millis(key: &str, value: &str) -> Result<Duration, ConfigError> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| invalid(key, value, "a non-negative integer number of milliseconds"))
}

fn size(key: &str, value: &str, min: usize) -> Result<usize, ConfigError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(invalid(
            key,
            value,
            &format!("an integer number of bytes >= {min}"),
        )),
    }
}

pub(super) fn apply(c: &mut ClientConfig, key: &str, value: &str) -> Result<(), ConfigError> {
    match key {
        "bootstrap.servers" => {
            let addrs = value
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(BrokerAddress::parse)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid(key, value, &format!("comma-separated host:port ({e})")))?;
            if addrs.is_empty() {
                return Err(invalid(key, value, "at least one host:port"));
            }
            c.bootstrap_servers = addrs;
        }
        "client.id" => c.client_id = value.to_owned(),
        "request.timeout.ms" => c.request_timeout = millis(key, value)?,
        "socket.connection.setup.timeout.ms" => c.connection_setup_timeout = millis(key, value)?,
        "metadata.max.age.ms" => c.metadata_max_age = millis(key, value)?,
        "connections.max.idle.ms" => c.connections_max_idle = millis(key, value)?,
        "reconnect.backoff.ms" => c.reconnect_backoff = millis(key, value)?,
        "reconnect.backoff.max.ms" => c.reconnect_backoff_max = millis(key, value)?,
        "retry.backoff.ms" => c.retry_backoff = millis(key, value)?,
        "default.api.timeout.ms" => c.default_api_timeout = millis(key, value)?,
        "receive.message.max.bytes" => c.receive_message_max_bytes = size(key, value, 1024)?,
        _ if super::security::apply(&mut c.security, key, value)? => {}
        _ => {
            let mut known: Vec<&str> = CLIENT_KEYS.to_vec();
            known.extend_from_slice(super::security::SECURITY_KEYS);
            // Put the closest key first so the hint is useful for typos.
            known.sort_by_key(|k| usize::from(!k.starts_with(key.split('.').next().unwrap_or(""))));
            return Err(ConfigError::UnknownKey {
                key: key.to_owned(),
                known: known.join(", "),
            });
        }
    }
    Ok(())
}
